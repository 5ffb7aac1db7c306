package io.quantgate.runtime.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A SentencePiece BPE tokenizer (Llama 1/2, Mistral, ...), read from a {@code tokenizer.model} protobuf
 * ({@link #load}) or built from a GGUF file's vocabulary ({@link #fromVocabulary}).
 *
 * <p>Encoding, as SentencePiece's {@code bpe_model.cc} and llama.cpp's SPM tokenizer do it:
 * <ol>
 *   <li>normalize: with {@code remove_extra_whitespaces}, drop leading and trailing spaces and collapse runs
 *       of spaces; an empty result encodes to nothing; with {@code add_dummy_prefix}, prepend a space; with
 *       {@code escape_whitespaces}, every space becomes {@code ▁} (U+2581). Only the identity normalization
 *       is implemented: a model with a precompiled character map (e.g. {@code nmt_nfkc}) is rejected;</li>
 *   <li>split into symbols: a user-defined piece that starts at the position (longest first) is one symbol
 *       that never merges, else one code point; a code point that is not a piece becomes its UTF-8 bytes as
 *       {@code <0xNN>} pieces with byte fallback, else {@code <unk>};</li>
 *   <li>merge ({@link BpeMerger}): repeatedly the adjacent pair whose concatenation is the normal piece with
 *       the highest score, leftmost on ties (each stretch between {@link CodePointPairs} cuts on its own). Control, unknown and byte pieces neither result from merges nor
 *       take part in them (SentencePiece keeps them out of its piece map). A merge result of type UNUSED is
 *       finally split back into the two pieces it was last merged from.</li>
 * </ol>
 * SentencePiece applies byte fallback after merging; here it happens before, which gives the same ids
 * because no piece contains a character that is not itself a piece.
 *
 * <p>Decoding: {@code ▁} becomes a space, {@code <0xNN>} that byte, control pieces nothing, {@code <unk>} the
 * model's {@code unk_surface} ({@code " ⁇ "}); when the model adds a dummy prefix, the leading space of the
 * piece right after BOS (or at the start of a sequence) is dropped, as SentencePiece and llama.cpp do.
 */
public final class SentencePieceTokenizer implements Tokenizer {
    /** SentencePiece's escaped space, U+2581 LOWER ONE EIGHTH BLOCK. */
    public static final char SPACE_SYMBOL = '\u2581';
    private static final String DEFAULT_UNK_SURFACE = " \u2047 ";

    // protobuf field numbers (sentencepiece_model.proto)
    private static final int MODEL_PIECES = 1;
    private static final int MODEL_TRAINER_SPEC = 2;
    private static final int MODEL_NORMALIZER_SPEC = 3;
    private static final int PIECE_PIECE = 1;
    private static final int PIECE_SCORE = 2;
    private static final int PIECE_TYPE = 3;
    private static final int TRAINER_MODEL_TYPE = 3;
    private static final int TRAINER_TREAT_WHITESPACE_AS_SUFFIX = 24;
    private static final int TRAINER_BYTE_FALLBACK = 35;
    private static final int TRAINER_UNK_ID = 40;
    private static final int TRAINER_BOS_ID = 41;
    private static final int TRAINER_EOS_ID = 42;
    private static final int TRAINER_UNK_SURFACE = 44;
    private static final int NORMALIZER_NAME = 1;
    private static final int NORMALIZER_PRECOMPILED_CHARSMAP = 2;
    private static final int NORMALIZER_ADD_DUMMY_PREFIX = 3;
    private static final int NORMALIZER_REMOVE_EXTRA_WHITESPACES = 4;
    private static final int NORMALIZER_ESCAPE_WHITESPACES = 5;
    private static final int MODEL_TYPE_UNIGRAM = 1;
    private static final int MODEL_TYPE_BPE = 2;

    /** How the text is normalized before it is split; the defaults of {@code NormalizerSpec} are all true. */
    private record Normalization(boolean addDummyPrefix, boolean removeExtraWhitespaces, boolean escapeWhitespaces) {
    }

    private final String source;
    private final String[] pieces;
    private final float[] scores;
    private final PieceType[] types;
    private final int bos;
    private final int eos;
    private final int unk;
    private final Normalization normalization;
    private final boolean byteFallback;
    private final Map<String, Integer> ids;
    /** For each BMP char: 1 + the id of the one-char piece that is an initial symbol, or 0. */
    private final int[] bmpSymbol = new int[Character.MAX_VALUE + 1];
    private final Map<Integer, Integer> supplementarySymbol = new HashMap<>();
    /** Ids of the {@code <0x00>..<0xFF>} pieces, -1 where missing. */
    private final int[] byteIds = new int[256];
    private final LiteralMatcher userDefined;
    private final int[] userDefinedIds;
    private final MergeTable merges;
    private final CodePointPairs joinable = new CodePointPairs();
    private final boolean hasUnused;
    private final byte[][] decoded;

    private SentencePieceTokenizer(String source, String[] pieces, float[] scores, PieceType[] types, int bos, int eos,
                                   int unk, Normalization normalization, boolean byteFallback, String unkSurface) {
        this.source = source;
        this.pieces = pieces;
        this.scores = scores;
        this.types = types;
        this.bos = checkSpecialId(source, "BOS", bos, pieces.length);
        this.eos = checkSpecialId(source, "EOS", eos, pieces.length);
        this.unk = checkSpecialId(source, "unknown", unk, pieces.length);
        this.normalization = normalization;
        this.byteFallback = byteFallback;
        this.ids = HashMap.newHashMap(pieces.length);
        Arrays.fill(byteIds, -1);
        List<String> userDefinedPieces = new ArrayList<>();
        List<Integer> userDefinedIdList = new ArrayList<>();
        boolean unused = false;
        for (int i = 0; i < pieces.length; i++) {
            Integer previous = ids.putIfAbsent(pieces[i], i);
            if (previous != null) {
                throw new IllegalArgumentException(source + ": piece '" + pieces[i] + "' appears twice, as ids "
                        + previous + " and " + i);
            }
            switch (types[i]) {
                case NORMAL, UNUSED -> {
                    if (pieces[i].codePointCount(0, pieces[i].length()) == 1) {
                        int cp = pieces[i].codePointAt(0);
                        if (cp <= Character.MAX_VALUE) {
                            bmpSymbol[cp] = i + 1;
                        } else {
                            supplementarySymbol.put(cp, i);
                        }
                    }
                    unused |= types[i] == PieceType.UNUSED;
                }
                case USER_DEFINED -> {
                    userDefinedPieces.add(pieces[i]);
                    userDefinedIdList.add(i);
                }
                case BYTE -> {
                    int b = BytePiece.value(pieces[i]);
                    if (b < 0) {
                        throw new IllegalArgumentException(source + ": piece " + i + " '" + pieces[i]
                                + "' has type BYTE but is not spelled <0xNN>");
                    }
                    byteIds[b] = i;
                }
                default -> {
                }
            }
        }
        if (byteFallback) {
            for (int b = 0; b < 256; b++) {
                if (byteIds[b] < 0) {
                    throw new IllegalArgumentException(source + ": byte fallback is on but the vocabulary has no BYTE piece "
                            + BytePiece.of(b));
                }
            }
        }
        this.hasUnused = unused;
        this.userDefined = userDefinedPieces.isEmpty() ? null : new LiteralMatcher(userDefinedPieces);
        this.userDefinedIds = userDefinedIdList.stream().mapToInt(Integer::intValue).toArray();
        this.merges = mergeTable();
        this.decoded = new byte[pieces.length][];
        for (int i = 0; i < pieces.length; i++) {
            decoded[i] = switch (types[i]) {
                case CONTROL -> new byte[0];
                case UNKNOWN -> unkSurface.getBytes(StandardCharsets.UTF_8);
                case BYTE -> new byte[] {(byte) BytePiece.value(pieces[i])};
                default -> (normalization.escapeWhitespaces() ? pieces[i].replace(SPACE_SYMBOL, ' ') : pieces[i])
                        .getBytes(StandardCharsets.UTF_8);
            };
        }
    }

    private static int checkSpecialId(String source, String what, int id, int vocabSize) {
        if (id < -1 || id >= vocabSize) {
            throw new IllegalArgumentException(source + ": " + what + " id " + id + " is outside the vocabulary 0.."
                    + (vocabSize - 1) + " (-1 for none)");
        }
        return id;
    }

    /**
     * Every way to cut a normal, user-defined or unused piece into two normal or unused pieces is a merge
     * rule, ranked by the merged piece's score: SentencePiece merges two symbols exactly when their
     * concatenation is such a piece.
     */
    private MergeTable mergeTable() {
        int[] rank = MergeTable.ranksByScore(scores);
        MergeTable table = new MergeTable(pieces.length * 4);
        for (int m = 0; m < pieces.length; m++) {
            if (types[m] != PieceType.NORMAL && types[m] != PieceType.USER_DEFINED && types[m] != PieceType.UNUSED) {
                continue;
            }
            String p = pieces[m];
            for (int cut = p.offsetByCodePoints(0, 1); cut < p.length(); cut = p.offsetByCodePoints(cut, 1)) {
                Integer left = ids.get(p.substring(0, cut));
                Integer right = left == null ? null : ids.get(p.substring(cut));
                if (right != null && isOperand(left) && isOperand(right)) {
                    table.put(left, right, rank[m], m);
                    joinable.addPairsOf(p);
                }
            }
        }
        return table;
    }

    private boolean isOperand(int id) {
        return types[id] == PieceType.NORMAL || types[id] == PieceType.UNUSED;
    }

    // ---------------------------------------------------------------- loading

    /**
     * Reads a SentencePiece {@code ModelProto}: pieces (field 1), trainer spec (field 2: model type, unk/bos/eos
     * ids, byte fallback, unk surface), normalizer spec (field 3: dummy prefix, whitespace handling). Unknown
     * fields are skipped.
     *
     * @throws IllegalArgumentException naming the file (and the byte offset) when it cannot be read, is not a
     *                                  well-formed model, or uses what is not implemented (a model type other
     *                                  than BPE, a precompiled normalization map, whitespace as suffix)
     */
    public static SentencePieceTokenizer load(Path tokenizerModel) {
        Objects.requireNonNull(tokenizerModel, "tokenizerModel");
        byte[] all;
        try {
            all = Files.readAllBytes(tokenizerModel);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read SentencePiece model " + tokenizerModel + ": " + e.getMessage(), e);
        }
        String source = "SentencePiece model " + tokenizerModel;
        ProtobufReader in = new ProtobufReader(source, all);
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<PieceType> types = new ArrayList<>();
        // TrainerSpec / NormalizerSpec defaults from sentencepiece_model.proto
        long modelType = MODEL_TYPE_UNIGRAM;
        boolean byteFallback = false;
        boolean whitespaceAsSuffix = false;
        int unk = 0;
        int bos = 1;
        int eos = 2;
        String unkSurface = DEFAULT_UNK_SURFACE;
        String normalizerName = "";
        int charsmapBytes = 0;
        boolean addDummyPrefix = true;
        boolean removeExtraWhitespaces = true;
        boolean escapeWhitespaces = true;
        while (in.hasRemaining()) {
            int tag = in.readTag();
            switch (ProtobufReader.fieldNumber(tag)) {
                case MODEL_PIECES -> {
                    in.expect(tag, ProtobufReader.LENGTH_DELIMITED, "pieces");
                    int at = in.offset();
                    ProtobufReader p = in.readMessage();
                    String piece = null;
                    float score = 0;
                    PieceType type = PieceType.NORMAL;
                    while (p.hasRemaining()) {
                        int t = p.readTag();
                        switch (ProtobufReader.fieldNumber(t)) {
                            case PIECE_PIECE -> {
                                p.expect(t, ProtobufReader.LENGTH_DELIMITED, "piece");
                                piece = p.readString();
                            }
                            case PIECE_SCORE -> {
                                p.expect(t, ProtobufReader.FIXED32, "score");
                                score = p.readFloat();
                            }
                            case PIECE_TYPE -> {
                                p.expect(t, ProtobufReader.VARINT, "type");
                                long code = p.readVarint();
                                type = PieceType.ofCode(code);
                                if (type == null) {
                                    throw p.error("piece " + pieces.size() + " has unknown type " + code, at);
                                }
                            }
                            default -> p.skip(ProtobufReader.wireType(t));
                        }
                    }
                    if (piece == null || piece.isEmpty()) {
                        throw in.error("piece " + pieces.size() + " has no text", at);
                    }
                    if (Float.isNaN(score)) {
                        throw in.error("piece " + pieces.size() + " '" + piece + "' has score NaN", at);
                    }
                    pieces.add(piece);
                    scores.add(score);
                    types.add(type);
                }
                case MODEL_TRAINER_SPEC -> {
                    in.expect(tag, ProtobufReader.LENGTH_DELIMITED, "trainer_spec");
                    ProtobufReader t = in.readMessage();
                    while (t.hasRemaining()) {
                        int f = t.readTag();
                        switch (ProtobufReader.fieldNumber(f)) {
                            case TRAINER_MODEL_TYPE -> modelType = varint(t, f, "model_type");
                            case TRAINER_TREAT_WHITESPACE_AS_SUFFIX -> whitespaceAsSuffix = varint(t, f, "treat_whitespace_as_suffix") != 0;
                            case TRAINER_BYTE_FALLBACK -> byteFallback = varint(t, f, "byte_fallback") != 0;
                            // int32 fields: a negative value (-1 = none) is a 10-byte varint, so truncate to int
                            case TRAINER_UNK_ID -> unk = (int) varint(t, f, "unk_id");
                            case TRAINER_BOS_ID -> bos = (int) varint(t, f, "bos_id");
                            case TRAINER_EOS_ID -> eos = (int) varint(t, f, "eos_id");
                            case TRAINER_UNK_SURFACE -> {
                                t.expect(f, ProtobufReader.LENGTH_DELIMITED, "unk_surface");
                                unkSurface = t.readString();
                            }
                            default -> t.skip(ProtobufReader.wireType(f));
                        }
                    }
                }
                case MODEL_NORMALIZER_SPEC -> {
                    in.expect(tag, ProtobufReader.LENGTH_DELIMITED, "normalizer_spec");
                    ProtobufReader nr = in.readMessage();
                    while (nr.hasRemaining()) {
                        int f = nr.readTag();
                        switch (ProtobufReader.fieldNumber(f)) {
                            case NORMALIZER_NAME -> {
                                nr.expect(f, ProtobufReader.LENGTH_DELIMITED, "name");
                                normalizerName = nr.readString();
                            }
                            case NORMALIZER_PRECOMPILED_CHARSMAP -> {
                                nr.expect(f, ProtobufReader.LENGTH_DELIMITED, "precompiled_charsmap");
                                charsmapBytes = nr.readBytes().length;
                            }
                            case NORMALIZER_ADD_DUMMY_PREFIX -> addDummyPrefix = varint(nr, f, "add_dummy_prefix") != 0;
                            case NORMALIZER_REMOVE_EXTRA_WHITESPACES ->
                                    removeExtraWhitespaces = varint(nr, f, "remove_extra_whitespaces") != 0;
                            case NORMALIZER_ESCAPE_WHITESPACES -> escapeWhitespaces = varint(nr, f, "escape_whitespaces") != 0;
                            default -> nr.skip(ProtobufReader.wireType(f));
                        }
                    }
                }
                default -> in.skip(ProtobufReader.wireType(tag));
            }
        }
        if (pieces.isEmpty()) {
            throw new IllegalArgumentException(source + " holds no pieces (field 1); not a SentencePiece model?");
        }
        if (modelType != MODEL_TYPE_BPE) {
            String name = switch ((int) modelType) {
                case MODEL_TYPE_UNIGRAM -> "UNIGRAM";
                case 3 -> "WORD";
                case 4 -> "CHAR";
                default -> "unknown";
            };
            throw new IllegalArgumentException(source + ": model_type " + name + " (" + modelType
                    + ") is unsupported; only BPE (2) models (Llama, Mistral) are implemented");
        }
        if (whitespaceAsSuffix) {
            throw new IllegalArgumentException(source + ": treat_whitespace_as_suffix is unsupported");
        }
        if (charsmapBytes > 0) {
            throw new IllegalArgumentException(source + ": normalizer '" + normalizerName + "' with a precompiled "
                    + "character map (" + charsmapBytes + " bytes) is unsupported; only identity normalization is implemented");
        }
        checkSpecialPieces(source, pieces, types, unk, bos, eos);
        float[] scoreArray = new float[scores.size()];
        for (int i = 0; i < scoreArray.length; i++) {
            scoreArray[i] = scores.get(i);
        }
        return new SentencePieceTokenizer(source, pieces.toArray(new String[0]), scoreArray,
                types.toArray(new PieceType[0]), bos, eos, unk,
                new Normalization(addDummyPrefix, removeExtraWhitespaces, escapeWhitespaces), byteFallback, unkSurface);
    }

    /**
     * The trainer spec's unk/bos/eos ids point at pieces of the right kind, as SentencePiece itself requires of
     * the unknown piece: a model whose {@code <unk>}, {@code <s>} or {@code </s>} was deleted still says ids 0, 1,
     * 2, and every id after the hole is shifted by one, which would pair each text piece with its neighbour's
     * embedding without any other sign. Only the model file is checked this way: GGUF vocabularies may lack
     * token types.
     */
    private static void checkSpecialPieces(String source, List<String> pieces, List<PieceType> types, int unk, int bos,
                                           int eos) {
        int unknowns = 0;
        for (PieceType t : types) {
            unknowns += t == PieceType.UNKNOWN ? 1 : 0;
        }
        if (unk >= 0 && unk < pieces.size() && types.get(unk) != PieceType.UNKNOWN || unknowns > 1) {
            throw new IllegalArgumentException(source + ": unk_id is " + unk + " but " + describe(pieces, types, unk)
                    + (unknowns > 1 ? " and " + unknowns + " pieces have type UNKNOWN" : "") + "; a SentencePiece "
                    + "model has exactly one UNKNOWN piece at unk_id (pieces deleted or reordered shift every id)");
        }
        for (int i = 0; i < 2; i++) {
            int id = i == 0 ? bos : eos;
            if (id >= 0 && id < pieces.size() && types.get(id) != PieceType.CONTROL
                    && types.get(id) != PieceType.USER_DEFINED) {
                throw new IllegalArgumentException(source + ": " + (i == 0 ? "bos_id" : "eos_id") + " is " + id + " but "
                        + describe(pieces, types, id) + ", not a CONTROL piece like <s> and </s> (pieces deleted or "
                        + "reordered shift every id)");
            }
        }
    }

    private static String describe(List<String> pieces, List<PieceType> types, int id) {
        return id < 0 || id >= pieces.size() ? "there is no such piece"
                : "piece " + id + " is '" + pieces.get(id) + "' of type " + types.get(id);
    }

    private static long varint(ProtobufReader r, int tag, String name) {
        r.expect(tag, ProtobufReader.VARINT, name);
        return r.readVarint();
    }

    /**
     * The same tokenizer built from a GGUF file's metadata ({@code tokenizer.ggml.model = "llama"}): pieces
     * ({@code tokenizer.ggml.tokens}, with {@code ▁} for spaces), scores, types (SentencePiece numbers),
     * special ids, and {@code tokenizer.ggml.add_space_prefix} (true when absent). GGUF keeps no normalizer
     * spec; like llama.cpp, extra whitespace is kept and byte fallback is on when all 256 byte pieces exist.
     *
     * @param bos -1 for none
     * @param eos -1 for none
     * @param unk -1 for none (then a character that is neither a piece nor byte-fallback-able is an error)
     */
    public static SentencePieceTokenizer fromVocabulary(List<String> pieces, float[] scores, int[] types, int bos,
                                                        int eos, int unk, boolean addDummyPrefix) {
        return fromVocabulary("GGUF vocabulary of " + pieces.size() + " pieces", pieces, scores, types, bos, eos, unk,
                addDummyPrefix);
    }

    /** As {@link #fromVocabulary(List, float[], int[], int, int, int, boolean)}, naming the source in errors. */
    public static SentencePieceTokenizer fromVocabulary(String source, List<String> pieces, float[] scores, int[] types,
                                                        int bos, int eos, int unk, boolean addDummyPrefix) {
        Objects.requireNonNull(pieces, "pieces");
        if (pieces.isEmpty() || scores.length != pieces.size() || types.length != pieces.size()) {
            throw new IllegalArgumentException(source + ": " + pieces.size() + " pieces, " + scores.length + " scores and "
                    + types.length + " types; need the same non-zero number of each");
        }
        String[] p = new String[pieces.size()];
        PieceType[] t = new PieceType[p.length];
        boolean allBytes = true;
        for (int i = 0; i < p.length; i++) {
            p[i] = pieces.get(i);
            t[i] = PieceType.ofCode(types[i]);
            if (p[i] == null || p[i].isEmpty()) {
                throw new IllegalArgumentException(source + ": piece " + i + " is empty");
            }
            if (t[i] == null) {
                throw new IllegalArgumentException(source + ": piece " + i + " '" + p[i] + "' has unknown type " + types[i]);
            }
            if (Float.isNaN(scores[i])) {
                throw new IllegalArgumentException(source + ": piece " + i + " '" + p[i] + "' has score NaN");
            }
        }
        boolean[] seen = new boolean[256];
        for (int i = 0; i < p.length; i++) {
            if (t[i] == PieceType.BYTE && BytePiece.value(p[i]) >= 0) {
                seen[BytePiece.value(p[i])] = true;
            }
        }
        for (boolean s : seen) {
            allBytes &= s;
        }
        return new SentencePieceTokenizer(source, p, scores.clone(), t, bos, eos, unk,
                new Normalization(addDummyPrefix, false, true), allBytes, DEFAULT_UNK_SURFACE);
    }

    // ---------------------------------------------------------------- accessors

    /** What this was read from, as used in error messages. */
    public String source() {
        return source;
    }

    /** The piece as stored, with {@code ▁} for spaces. */
    public String piece(int id) {
        return pieces[checkId(id)];
    }

    public float score(int id) {
        return scores[checkId(id)];
    }

    public PieceType type(int id) {
        return types[checkId(id)];
    }

    /** The id of a piece (spelled as stored, {@code ▁} for spaces), or -1. */
    public int pieceId(String piece) {
        return ids.getOrDefault(piece, -1);
    }

    public int unk() {
        return unk;
    }

    public boolean addsDummyPrefix() {
        return normalization.addDummyPrefix();
    }

    public boolean removesExtraWhitespaces() {
        return normalization.removeExtraWhitespaces();
    }

    public boolean byteFallback() {
        return byteFallback;
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    @Override
    public int bos() {
        return bos;
    }

    @Override
    public int eos() {
        return eos;
    }

    // ---------------------------------------------------------------- encode

    @Override
    public int[] encode(String text, boolean addBos) {
        Objects.requireNonNull(text, "text");
        if (addBos && bos < 0) {
            throw new IllegalArgumentException(source + " has no BOS piece; encode with bos = false");
        }
        String s = normalize(text);
        // at most 3 byte pieces per UTF-16 char (4 per surrogate pair), plus BOS
        int[] tok = new int[3 * s.length() + 1];
        int start = 0;
        if (addBos) {
            tok[start++] = bos;
        }
        Map<Integer, long[]> lastMerge = hasUnused ? new HashMap<>() : null;
        BpeMerger merger = new BpeMerger(merges, joinable, pieces,
                hasUnused ? (left, right, merged) -> lastMerge.put(merged, new long[] {left, right}) : null);
        merger.begin(tok, start);
        for (int i = 0; i < s.length(); ) {
            if (userDefined != null) {
                int m = userDefined.longestAt(s, i);
                if (m >= 0) {
                    merger.append(userDefinedIds[m]);
                    i += userDefined.literal(m).length();
                    continue;
                }
            }
            int cp = s.codePointAt(i);
            int id = cp <= Character.MAX_VALUE ? bmpSymbol[cp] - 1 : supplementarySymbol.getOrDefault(cp, -1);
            if (id >= 0) {
                merger.append(id);
            } else if (byteFallback) {
                for (byte b : Character.toString(cp).getBytes(StandardCharsets.UTF_8)) {
                    merger.append(byteIds[b & 0xFF]);
                }
            } else if (unk >= 0) {
                merger.append(unk);
            } else {
                throw new IllegalArgumentException(source + " cannot encode U+" + Integer.toHexString(cp).toUpperCase()
                        + ": not a piece, no byte fallback and no unknown piece");
            }
            i += Character.charCount(cp);
        }
        int n = merger.finish();
        if (!hasUnused) {
            return Arrays.copyOf(tok, n);
        }
        int[] out = new int[tok.length];
        int count = 0;
        for (int i = 0; i < start; i++) {
            out[count++] = tok[i];
        }
        for (int i = start; i < n; i++) {
            count = resegment(tok[i], lastMerge, out, count);
        }
        return Arrays.copyOf(out, count);
    }

    /** SentencePiece's resegmentation: an UNUSED piece is replaced by the pair it was (last) merged from. */
    private int resegment(int id, Map<Integer, long[]> lastMerge, int[] out, int count) {
        long[] pair = types[id] == PieceType.UNUSED ? lastMerge.get(id) : null;
        if (pair == null) {
            out[count++] = id;
            return count;
        }
        count = resegment((int) pair[0], lastMerge, out, count);
        return resegment((int) pair[1], lastMerge, out, count);
    }

    /** The text as SentencePiece's normalizer leaves it, before splitting. */
    String normalize(String text) {
        String s = replaceLoneSurrogates(text);
        if (normalization.removeExtraWhitespaces()) {
            s = collapseSpaces(s);
        }
        if (s.isEmpty()) {
            return s;
        }
        if (normalization.addDummyPrefix()) {
            s = " " + s;
        }
        return normalization.escapeWhitespaces() ? s.replace(' ', SPACE_SYMBOL) : s;
    }

    /** Leading and trailing spaces removed, inner runs of spaces made one (only U+0020, as SentencePiece). */
    private static String collapseSpaces(String s) {
        StringBuilder b = new StringBuilder(s.length());
        boolean pendingSpace = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == ' ') {
                pendingSpace = b.length() > 0;
            } else {
                if (pendingSpace) {
                    b.append(' ');
                    pendingSpace = false;
                }
                b.append(c);
            }
        }
        return b.toString();
    }

    /** A Java string may hold an unpaired surrogate, which has no UTF-8 form: it becomes U+FFFD. */
    private static String replaceLoneSurrogates(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean lone = Character.isHighSurrogate(c)
                    ? i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))
                    : Character.isLowSurrogate(c) && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)));
            if (lone && b == null) {
                b = new StringBuilder(s.substring(0, i));
            }
            if (b != null) {
                b.append(lone ? '\uFFFD' : c);
            }
        }
        return b == null ? s : b.toString();
    }

    // ---------------------------------------------------------------- decode

    @Override
    public byte[] decodeBytes(int prevToken, int token) {
        byte[] b = decoded[checkId(token)];
        boolean textPiece = types[token] == PieceType.NORMAL || types[token] == PieceType.USER_DEFINED
                || types[token] == PieceType.UNUSED;
        if (normalization.addDummyPrefix() && prevToken == bos && textPiece && b.length > 0 && b[0] == ' ') {
            return Arrays.copyOfRange(b, 1, b.length);
        }
        return b.clone();
    }

    @Override
    public String decode(int[] tokens) {
        return TokenDecoding.decode(this, tokens, t -> true);
    }

    private int checkId(int id) {
        if (id < 0 || id >= pieces.length) {
            throw new IllegalArgumentException("token " + id + " is outside the vocabulary 0.." + (pieces.length - 1)
                    + " of " + source);
        }
        return id;
    }

    @Override
    public String toString() {
        return "SentencePieceTokenizer[" + source + ", " + pieces.length + " pieces]";
    }
}
