package io.quantgate.runtime.tokenizer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Just enough of the protobuf wire format to read a SentencePiece model without a protobuf dependency:
 * a message is a sequence of {@code (key, value)} fields, the key a varint {@code field << 3 | wire type},
 * the value a varint (type 0), 8 little-endian bytes (1), a varint length and that many bytes (2: strings,
 * bytes, nested messages) or 4 little-endian bytes (5). Group wire types 3 and 4 are deprecated and
 * rejected.
 *
 * <p>A nested message is read with {@link #readMessage()}, a reader over the same array that keeps
 * absolute offsets, so every error names the file and the byte offset where the input went wrong.
 */
public final class ProtobufReader {
    public static final int VARINT = 0;
    public static final int FIXED64 = 1;
    public static final int LENGTH_DELIMITED = 2;
    public static final int FIXED32 = 5;

    private final String source;
    private final byte[] data;
    private final int end;
    private int pos;

    /** @param source what the bytes are (a file name), for error messages */
    public ProtobufReader(String source, byte[] data) {
        this(source, data, 0, data.length);
    }

    private ProtobufReader(String source, byte[] data, int start, int end) {
        this.source = source;
        this.data = data;
        this.pos = start;
        this.end = end;
    }

    public boolean hasRemaining() {
        return pos < end;
    }

    /** Offset of the next byte to read, from the start of the whole input. */
    public int offset() {
        return pos;
    }

    /** Reads a field key; see {@link #fieldNumber} and {@link #wireType}. */
    public int readTag() {
        int at = pos;
        long key = readVarint();
        int wireType = (int) (key & 7);
        long field = key >>> 3;
        if (field < 1 || field > (1 << 29) - 1) {
            throw error("field number " + field + " is not in 1..536870911", at);
        }
        if (wireType != VARINT && wireType != FIXED64 && wireType != LENGTH_DELIMITED && wireType != FIXED32) {
            throw error("field " + field + " has wire type " + wireType
                    + (wireType == 3 || wireType == 4 ? " (deprecated group, not supported)" : " (undefined)"), at);
        }
        return (int) key;
    }

    public static int fieldNumber(int tag) {
        return tag >>> 3;
    }

    public static int wireType(int tag) {
        return tag & 7;
    }

    /** An unsigned varint of up to 10 bytes (int32 negatives are 10-byte varints: cast the result). */
    public long readVarint() {
        int at = pos;
        long value = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (pos >= end) {
                throw error("truncated varint (input ends after " + (pos - at) + " bytes of it)", at);
            }
            int b = data[pos++] & 0xFF;
            value |= (long) (b & 0x7F) << shift;
            if (b < 0x80) {
                return value;
            }
        }
        throw error("varint longer than 10 bytes", at);
    }

    public int readFixed32() {
        need(4, "fixed32");
        int v = ByteBuffer.wrap(data, pos, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        pos += 4;
        return v;
    }

    public float readFloat() {
        return Float.intBitsToFloat(readFixed32());
    }

    public long readFixed64() {
        need(8, "fixed64");
        long v = ByteBuffer.wrap(data, pos, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        pos += 8;
        return v;
    }

    /** The payload of a length-delimited field. */
    public byte[] readBytes() {
        int length = readLength();
        byte[] out = new byte[length];
        System.arraycopy(data, pos, out, 0, length);
        pos += length;
        return out;
    }

    /** A length-delimited field as strict UTF-8 (protobuf {@code string} fields must be valid UTF-8). */
    public String readString() {
        int at = pos;
        int length = readLength();
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(data, pos, length))
                    .toString();
            pos += length;
            return s;
        } catch (CharacterCodingException e) {
            throw error("string of " + length + " bytes is not valid UTF-8", at);
        }
    }

    /** A nested message: a reader over the field's payload, with offsets still counted from the input start. */
    public ProtobufReader readMessage() {
        int length = readLength();
        ProtobufReader sub = new ProtobufReader(source, data, pos, pos + length);
        pos += length;
        return sub;
    }

    /** Skips the value of a field of this wire type (an unknown field). */
    public void skip(int wireType) {
        switch (wireType) {
            case VARINT -> readVarint();
            case FIXED64 -> readFixed64();
            case FIXED32 -> readFixed32();
            case LENGTH_DELIMITED -> {
                int length = readLength(); // before reading pos: readLength moves it past the length varint
                pos += length;
            }
            default -> throw error("cannot skip wire type " + wireType, pos);
        }
    }

    /**
     * Checks that field {@code tag} has the wire type its schema declares.
     *
     * @param name the field's schema name, for the error message
     */
    public void expect(int tag, int wireType, String name) {
        if (wireType(tag) != wireType) {
            throw error("field " + fieldNumber(tag) + " (" + name + ") has wire type " + wireType(tag)
                    + ", expected " + wireType, pos);
        }
    }

    /** An error about the input at {@code offset}, naming the source. */
    public IllegalArgumentException error(String what, int offset) {
        return new IllegalArgumentException(source + ": " + what + " at byte offset " + offset);
    }

    private int readLength() {
        int at = pos;
        long length = readVarint();
        if (length < 0 || length > end - pos) {
            throw error("length-delimited field of " + length + " bytes overruns its message, which ends at offset "
                    + end + " (" + (end - pos) + " bytes left)", at);
        }
        return (int) length;
    }

    private void need(int bytes, String what) {
        if (end - pos < bytes) {
            throw error("truncated " + what + ": " + (end - pos) + " of " + bytes + " bytes left", pos);
        }
    }
}
