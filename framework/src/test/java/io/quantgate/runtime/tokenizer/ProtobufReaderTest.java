package io.quantgate.runtime.tokenizer;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProtobufReaderTest {

    private static byte[] bytes(int... b) {
        byte[] out = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = (byte) b[i];
        }
        return out;
    }

    @Test
    void readsTheEncodingGuidesExamples() {
        // protobuf encoding guide: field 1 = 150 is 08 96 01 (150 = 0b1_0010110: 0x96 = 0x16|0x80, then 0x01);
        // field 2 = "testing" is 12 07 74 65 73 74 69 6e 67
        ProtobufReader r = new ProtobufReader("example", bytes(0x08, 0x96, 0x01, 0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'));
        int tag = r.readTag();
        assertThat(ProtobufReader.fieldNumber(tag)).isEqualTo(1);
        assertThat(ProtobufReader.wireType(tag)).isEqualTo(ProtobufReader.VARINT);
        assertThat(r.readVarint()).isEqualTo(150);
        tag = r.readTag();
        assertThat(ProtobufReader.fieldNumber(tag)).isEqualTo(2);
        assertThat(ProtobufReader.wireType(tag)).isEqualTo(ProtobufReader.LENGTH_DELIMITED);
        assertThat(r.readString()).isEqualTo("testing");
        assertThat(r.hasRemaining()).isFalse();
    }

    @Test
    void readsFloatsNegativeInt32AndNestedMessagesWithAbsoluteOffsets() {
        // 1.0f is 0x3F800000, little-endian 00 00 80 3F; int32 -1 is the 10-byte varint FF x9 01
        byte[] data = bytes(0x15, 0x00, 0x00, 0x80, 0x3F,
                0x18, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
                0x22, 0x02, 0x08, 0x05);
        ProtobufReader r = new ProtobufReader("example", data);
        assertThat(ProtobufReader.wireType(r.readTag())).isEqualTo(ProtobufReader.FIXED32);
        assertThat(r.readFloat()).isEqualTo(1.0f);
        r.readTag();
        assertThat((int) r.readVarint()).isEqualTo(-1);
        assertThat(ProtobufReader.fieldNumber(r.readTag())).isEqualTo(4);
        ProtobufReader nested = r.readMessage();
        assertThat(nested.offset()).isEqualTo(18);
        assertThat(ProtobufReader.fieldNumber(nested.readTag())).isEqualTo(1);
        assertThat(nested.readVarint()).isEqualTo(5);
        assertThat(nested.hasRemaining()).isFalse();
        assertThat(r.hasRemaining()).isFalse();
    }

    @Test
    void skipsFieldsOfEveryWireType() {
        byte[] data = new ProtoWriter().varint(7, 300).fixed64(8, -2).float32(9, 2.5f).string(10, "skip me")
                .varint(1, 42).toByteArray();
        ProtobufReader r = new ProtobufReader("example", data);
        for (int i = 0; i < 4; i++) {
            int tag = r.readTag();
            r.skip(ProtobufReader.wireType(tag));
        }
        assertThat(ProtobufReader.fieldNumber(r.readTag())).isEqualTo(1);
        assertThat(r.readVarint()).isEqualTo(42);
    }

    @Test
    void errorsNameTheSourceAndOffset() {
        ProtobufReader truncated = new ProtobufReader("model.bin", bytes(0x08, 0x96));
        truncated.readTag();
        assertThatThrownBy(truncated::readVarint)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model.bin").hasMessageContaining("truncated varint").hasMessageContaining("offset 1");
        ProtobufReader overrun = new ProtobufReader("model.bin", bytes(0x12, 0x09, 'a', 'b'));
        overrun.readTag();
        assertThatThrownBy(overrun::readBytes)
                .hasMessageContaining("model.bin").hasMessageContaining("9 bytes").hasMessageContaining("offset 1");
        assertThatThrownBy(() -> new ProtobufReader("model.bin", bytes(0x0B)).readTag())
                .hasMessageContaining("model.bin").hasMessageContaining("wire type 3").hasMessageContaining("offset 0");
        ProtobufReader badUtf8 = new ProtobufReader("model.bin", bytes(0x0A, 0x02, 0xC3, 0x28));
        badUtf8.readTag();
        assertThatThrownBy(badUtf8::readString).hasMessageContaining("model.bin").hasMessageContaining("UTF-8");
        ProtobufReader longVarint = new ProtobufReader("model.bin", bytes(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01));
        assertThatThrownBy(longVarint::readVarint).hasMessageContaining("longer than 10 bytes");
        ProtobufReader shortFloat = new ProtobufReader("model.bin", bytes(0x15, 0x00, 0x00));
        shortFloat.readTag();
        assertThatThrownBy(shortFloat::readFloat).hasMessageContaining("model.bin").hasMessageContaining("truncated fixed32");
    }
}
