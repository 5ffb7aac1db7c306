package io.quantgate.runtime.tokenizer;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A Hugging Face {@code tokenizer.json} with a BPE model, both families in use:
 * <ul>
 *   <li>byte-level BPE (GPT-2, Llama 3, Qwen2): a {@code ByteLevel} and/or regex {@code Split}
 *       pre-tokenizer ({@link SplitPatterns}) cuts the text into words spelled in GPT-2's byte alphabet
 *       ({@link ByteLevelAlphabet}); decoder {@code ByteLevel};</li>
 *   <li>SentencePiece-style BPE (Llama 2's and Mistral's converted tokenizers): normalizer
 *       {@code Prepend("▁")} + {@code Replace(" " → "▁")} or a {@code Metaspace} pre-tokenizer,
 *       {@code byte_fallback}; decoder {@code Replace}, {@code ByteFallback}, {@code Fuse}, {@code Strip}.</li>
 * </ul>
 *
 * <p>Encoding: {@link AddedTokens} are cut out of the raw text first; each stretch between them is
 * normalized ({@link HfNormalizer}), pre-tokenized ({@link HfPreTokenizer}) into words, and each word is
 * encoded by BPE: split into code points (a code point that is not a token becomes its {@code <0xNN>}
 * tokens with {@code byte_fallback}, else {@code unk_token}, consecutive ones fused with {@code fuse_unk}),
 * then merged by the rank of the pair in {@code merges} (earlier first, leftmost on ties) with
 * {@link BpeMerger}. With {@code ignore_merges} (Llama 3) a word that is itself a token is taken whole.
 *
 * <p>BOS and EOS, which tokenizer.json does not name directly, are found by this rule:
 * <ol>
 *   <li>the post-processor: a {@code TemplateProcessing} (also inside a {@code Sequence}) whose
 *       {@code single} template starts with a special token gives BOS, one that ends with a special token
 *       after {@code $A} gives EOS; {@code RobertaProcessing} gives {@code cls} / {@code sep};</li>
 *   <li>else the first special added token named {@code <s>}, {@code <|begin_of_text|>}, {@code <bos>},
 *       {@code <|startoftext|>} (BOS) or {@code </s>}, {@code <|end_of_text|>}, {@code <eos>},
 *       {@code <|endoftext|>} (EOS);</li>
 *   <li>else a special {@code <|endoftext|>} is also BOS: GPT-2 and Qwen2 use that one document
 *       separator for both (as their GGUF conversions record);</li>
 *   <li>else none: {@link #bos()} / {@link #eos()} return -1 and {@code encode(text, true)} fails.</li>
 * </ol>
 *
 * <p>Decoding ({@link HfDecoder}): special added tokens give no text, other added tokens their content;
 * a vocabulary token is decoded per the decoder, and where the decoder strips the dummy-prefix space it is
 * dropped from the token right after BOS or at the start of a sequence.
 */
public final class HuggingFaceTokenizer implements Tokenizer {
    /** Duplicate keys are an error: in {@code model.vocab} the last would silently win and leave a hole. */
    private static final ObjectMapper JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    private static final List<String> BOS_NAMES = List.of("<s>", "<|begin_of_text|>", "<bos>", "<|startoftext|>");
    private static final List<String> EOS_NAMES = List.of("</s>", "<|end_of_text|>", "<eos>", "<|endoftext|>");
    /** Words longer than this are not cached (SentencePiece-style files have no pre-tokenizer: a word is a whole text). */
    private static final int CACHED_WORD_LENGTH = 64;
    private static final int CACHE_SIZE = 100_000;

    private final Path source;
    private final Map<String, Integer> vocab;
    /** id → token string (vocabulary or added token); null for ids that are neither. */
    private final String[] tokens;
    private final boolean[] addedToken;
    private final boolean[] specialToken;
    private final byte[][] decoded;
    private final MergeTable merges;
    private final CodePointPairs joinable;
    /** For each BMP char: 1 + the id of the one-char token, or 0. */
    private final int[] bmpToken = new int[Character.MAX_VALUE + 1];
    private final int[] byteTokens = new int[256];
    private final boolean byteFallback;
    private final int unk;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final HfNormalizer normalizer;
    private final HfPreTokenizer preTokenizer;
    private final HfDecoder decoder;
    private final AddedTokens added;
    private final int bos;
    private final int eos;
    private final Map<String, int[]> wordCache = new ConcurrentHashMap<>();

    private HuggingFaceTokenizer(Path source, JsonNode root, JsonFields json) {
        this.source = source;
        JsonNode model = json.object(root, "model", "(root)");
        String type = json.textOr(model, "type", "model", model.has("merges") ? "BPE" : null);
        if (!"BPE".equals(type)) {
            throw json.error("model.type", "is " + (type == null ? "missing" : "'" + type + "'")
                    + "; only BPE models are supported");
        }
        if (!json.textOr(model, "continuing_subword_prefix", "model", "").isEmpty()
                || !json.textOr(model, "end_of_word_suffix", "model", "").isEmpty()) {
            throw json.error("model", "uses continuing_subword_prefix / end_of_word_suffix, which are not supported");
        }
        JsonNode dropout = model.get("dropout");
        if (dropout != null && !dropout.isNull() && dropout.asDouble() != 0) {
            throw json.error("model.dropout", "is " + dropout + "; BPE dropout (random merges) is not supported");
        }
        this.added = AddedTokens.parse(root.get("added_tokens"), json);
        this.vocab = readVocab(json.object(model, "vocab", "model"), json);
        // in long: an id of 2147483647 plus one must not wrap around to a negative size
        long maxId = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        for (AddedTokens.Token t : added.tokens()) {
            maxId = Math.max(maxId, t.id());
        }
        if (maxId + 1 > 4L * (vocab.size() + added.tokens().size()) + 1024) {
            // ids are dense in practice; a huge one would make the id tables huge
            throw json.error("model.vocab", "has ids up to " + maxId + " for " + vocab.size() + " tokens and "
                    + added.tokens().size() + " added tokens; the ids are too sparse");
        }
        int size = (int) (maxId + 1);
        this.tokens = new String[size];
        this.addedToken = new boolean[size];
        this.specialToken = new boolean[size];
        vocab.forEach((token, id) -> {
            if (tokens[id] != null) {
                throw json.error("model.vocab", "gives id " + id + " to both '" + tokens[id] + "' and '" + token + "'");
            }
            tokens[id] = token;
        });
        for (AddedTokens.Token t : added.tokens()) {
            if (tokens[t.id()] != null && !tokens[t.id()].equals(t.content())) {
                throw json.error("added_tokens", "gives id " + t.id() + " to '" + t.content() + "', which "
                        + (addedToken[t.id()] ? "another added token" : "the vocabulary") + " gives to '"
                        + tokens[t.id()] + "'");
            }
            tokens[t.id()] = t.content();
            addedToken[t.id()] = true;
            specialToken[t.id()] = t.special();
        }
        this.byteFallback = json.bool(model, "byte_fallback", "model", false);
        this.fuseUnk = json.bool(model, "fuse_unk", "model", false);
        this.ignoreMerges = json.bool(model, "ignore_merges", "model", false);
        String unkToken = json.textOr(model, "unk_token", "model", null);
        this.unk = unkToken == null ? -1 : idOf(unkToken);
        if (unkToken != null && unk < 0) {
            throw json.error("model.unk_token", "'" + unkToken + "' is not in the vocabulary");
        }
        Arrays.fill(byteTokens, -1);
        for (int b = 0; b < 256; b++) {
            byteTokens[b] = vocab.getOrDefault(BytePiece.of(b), -1);
        }
        vocab.forEach((token, id) -> {
            if (token.length() == 1) {
                bmpToken[token.charAt(0)] = id + 1;
            }
        });
        this.joinable = new CodePointPairs();
        this.merges = readMerges(json.array(model, "merges", "model"), json);
        this.normalizer = HfNormalizer.parse(root.get("normalizer"), json);
        this.preTokenizer = HfPreTokenizer.parse(root.get("pre_tokenizer"), json);
        this.decoder = HfDecoder.parse(root.get("decoder"), json);
        int[] special = postProcessorSpecials(root.get("post_processor"), json);
        this.bos = special[0] >= 0 ? special[0] : firstSpecial(BOS_NAMES, firstSpecial(List.of("<|endoftext|>"), -1));
        this.eos = special[1] >= 0 ? special[1] : firstSpecial(EOS_NAMES, -1);
        this.decoded = new byte[size][];
        for (int id = 0; id < size; id++) {
            if (tokens[id] != null) {
                decoded[id] = specialToken[id] ? new byte[0]
                        : addedToken[id] ? tokens[id].getBytes(StandardCharsets.UTF_8)
                        : decoder.tokenBytes(tokens[id]);
            }
        }
    }

    /**
     * Reads a {@code tokenizer.json}.
     *
     * @throws IllegalArgumentException naming the file when it cannot be read, is not valid JSON, has a
     *                                  model other than BPE, a merge of unknown tokens, or a normalizer,
     *                                  pre-tokenizer or decoder type that is not supported
     */
    public static HuggingFaceTokenizer load(Path tokenizerJson) {
        Objects.requireNonNull(tokenizerJson, "tokenizerJson");
        JsonNode root;
        try {
            root = JSON.readTree(tokenizerJson.toFile());
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            throw new IllegalArgumentException("tokenizer file " + tokenizerJson + " is not valid JSON: " + e.getOriginalMessage()
                    + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"), e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read tokenizer file " + tokenizerJson + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException("tokenizer file " + tokenizerJson + " does not hold a JSON object");
        }
        return new HuggingFaceTokenizer(tokenizerJson, root, new JsonFields("tokenizer file " + tokenizerJson));
    }

    private static Map<String, Integer> readVocab(JsonNode node, JsonFields json) {
        Map<String, Integer> vocab = HashMap.newHashMap(node.size());
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode id = e.getValue();
            if (!id.isIntegralNumber() || !id.canConvertToInt() || id.asInt() < 0) {
                throw json.error("model.vocab", "gives '" + e.getKey() + "' the id " + id + ", not a non-negative integer");
            }
            vocab.put(e.getKey(), id.asInt());
        }
        if (vocab.isEmpty()) {
            throw json.error("model.vocab", "is empty");
        }
        return vocab;
    }

    /**
     * Merge {@code i} (a string {@code "a b"} or an array {@code ["a", "b"]}) gets rank {@code i}. As in
     * Hugging Face, a pair listed twice keeps its last rank.
     */
    private MergeTable readMerges(JsonNode list, JsonFields json) {
        MergeTable table = new MergeTable(list.size());
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            String left;
            String right;
            if (m.isTextual()) {
                String[] parts = m.asText().split(" ", -1);
                if (parts.length != 2) {
                    throw json.error("model.merges[" + i + "]", "'" + m.asText() + "' is not two tokens separated by one space");
                }
                left = parts[0];
                right = parts[1];
            } else if (m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()) {
                left = m.get(0).asText();
                right = m.get(1).asText();
            } else {
                throw json.error("model.merges[" + i + "]", "is neither \"a b\" nor [\"a\", \"b\"]: " + m);
            }
            Integer l = vocab.get(left);
            Integer r = vocab.get(right);
            Integer merged = vocab.get(left + right);
            String missing = l == null ? left : r == null ? right : merged == null ? left + right : null;
            if (missing != null) {
                throw json.error("model.merges[" + i + "]", "('" + left + "' + '" + right + "') references token '" + missing
                        + "', which is not in the vocabulary");
            }
            table.put(l, r, i, merged);
            joinable.addPairsOf(left + right);
        }
        return table;
    }

    /** {BOS, EOS} ids named by the post-processor, -1 where it names none. */
    private int[] postProcessorSpecials(JsonNode node, JsonFields json) {
        int[] out = {-1, -1};
        if (node == null || node.isNull()) {
            return out;
        }
        String type = json.type(node, "post_processor");
        switch (type) {
            case "Sequence" -> {
                for (JsonNode p : json.array(node, "processors", "post_processor")) {
                    int[] inner = postProcessorSpecials(p, json);
                    out[0] = out[0] >= 0 ? out[0] : inner[0];
                    out[1] = out[1] >= 0 ? out[1] : inner[1];
                }
            }
            case "TemplateProcessing" -> {
                JsonNode single = json.array(node, "single", "post_processor");
                JsonNode specials = node.get("special_tokens");
                if (!single.isEmpty()) {
                    out[0] = templateSpecial(single.get(0), specials, json);
                    if (single.size() > 1 && single.get(single.size() - 2).has("Sequence")) {
                        out[1] = templateSpecial(single.get(single.size() - 1), specials, json);
                    }
                }
            }
            case "RobertaProcessing", "BertProcessing" -> {
                out[0] = pairId(node.get("cls"));
                out[1] = pairId(node.get("sep"));
            }
            default -> {
                // ByteLevel and others add no tokens
            }
        }
        return out;
    }

    private int templateSpecial(JsonNode piece, JsonNode specials, JsonFields json) {
        JsonNode st = piece.get("SpecialToken");
        if (st == null) {
            return -1;
        }
        String name = json.text(st, "id", "post_processor.single[].SpecialToken");
        JsonNode ids = specials == null ? null : specials.path(name).get("ids");
        if (ids != null && ids.isArray() && ids.size() == 1 && ids.get(0).canConvertToInt()) {
            return ids.get(0).asInt();
        }
        return idOf(name);
    }

    private static int pairId(JsonNode pair) {
        return pair != null && pair.isArray() && pair.size() == 2 && pair.get(1).canConvertToInt() ? pair.get(1).asInt() : -1;
    }

    private int firstSpecial(List<String> names, int fallback) {
        for (String name : names) {
            AddedTokens.Token t = added.special(name);
            if (t != null) {
                return t.id();
            }
        }
        return fallback;
    }

    private int idOf(String token) {
        for (AddedTokens.Token t : added.tokens()) {
            if (t.content().equals(token)) {
                return t.id();
            }
        }
        return vocab.getOrDefault(token, -1);
    }

    // ---------------------------------------------------------------- accessors

    public Path source() {
        return source;
    }

    /** The token string of {@code id} (vocabulary spelling, e.g. {@code Ġthe}, or an added token's content). */
    public String token(int id) {
        return tokens[checkId(id)];
    }

    /** The id of a token (vocabulary spelling or added-token content), or -1. */
    public int tokenId(String token) {
        return idOf(token);
    }

    public boolean isSpecial(int id) {
        return specialToken[checkId(id)];
    }

    @Override
    public int vocabSize() {
        return tokens.length;
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
            throw new IllegalArgumentException("tokenizer file " + source + " names no BOS token (no post-processor template, "
                    + "no special <s>, <|begin_of_text|>, <bos>, <|startoftext|> or <|endoftext|>); encode with bos = false");
        }
        IntBuffer out = new IntBuffer(text.length() + 1);
        if (addBos) {
            out.add(bos);
        }
        BpeMerger merger = new BpeMerger(merges, joinable, tokens, null);
        for (AddedTokens.Segment seg : added.split(text)) {
            if (seg.id() >= 0) {
                out.add(seg.id());
                continue;
            }
            String normalized = normalizer.apply(text.substring(seg.start(), seg.end()));
            if (normalized.isEmpty()) {
                continue;
            }
            for (String word : preTokenizer.apply(normalized, seg.start() == 0)) {
                if (!word.isEmpty()) {
                    encodeWord(word, out, merger);
                }
            }
        }
        return out.toArray();
    }

    private void encodeWord(String word, IntBuffer out, BpeMerger merger) {
        if (ignoreMerges) {
            Integer whole = vocab.get(word);
            if (whole != null) {
                out.add(whole);
                return;
            }
        }
        boolean cacheable = word.length() <= CACHED_WORD_LENGTH;
        if (cacheable) {
            int[] cached = wordCache.get(word);
            if (cached != null) {
                out.addAll(cached, cached.length);
                return;
            }
        }
        int[] tok = new int[4 * word.length()];
        merger.begin(tok, 0);
        boolean lastWasUnk = false;
        for (int i = 0; i < word.length(); ) {
            int cp = word.codePointAt(i);
            int len = Character.charCount(cp);
            int id = cp <= Character.MAX_VALUE ? bmpToken[cp] - 1 : vocab.getOrDefault(word.substring(i, i + len), -1);
            boolean unknown = false;
            if (id >= 0) {
                merger.append(id);
            } else if (byteFallback && allBytesKnown(word, i, len)) {
                for (byte b : word.substring(i, i + len).getBytes(StandardCharsets.UTF_8)) {
                    merger.append(byteTokens[b & 0xFF]);
                }
            } else if (unk >= 0) {
                if (!(fuseUnk && lastWasUnk)) {
                    merger.append(unk);
                }
                unknown = true;
            } else {
                throw new IllegalArgumentException("tokenizer file " + source + " cannot encode U+"
                        + Integer.toHexString(cp).toUpperCase() + ": not a token, no byte fallback and no unk_token");
            }
            lastWasUnk = unknown;
            i += len;
        }
        int n = merger.finish();
        if (cacheable && wordCache.size() < CACHE_SIZE) {
            wordCache.put(word, Arrays.copyOf(tok, n));
        }
        out.addAll(tok, n);
    }

    private boolean allBytesKnown(String word, int i, int len) {
        for (byte b : word.substring(i, i + len).getBytes(StandardCharsets.UTF_8)) {
            if (byteTokens[b & 0xFF] < 0) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- decode

    @Override
    public byte[] decodeBytes(int prevToken, int token) {
        byte[] b = decoded[checkId(token)];
        if (decoder.stripsLeading() && prevToken == bos && !addedToken[token]) {
            return decoder.stripLeading(b).clone();
        }
        return b.clone();
    }

    @Override
    public String decode(int[] ids) {
        return TokenDecoding.decode(this, ids, t -> true);
    }

    private int checkId(int id) {
        if (id < 0 || id >= tokens.length || tokens[id] == null) {
            throw new IllegalArgumentException("token " + id + " is not in the vocabulary (0.." + (tokens.length - 1)
                    + ") of " + source);
        }
        return id;
    }

    @Override
    public String toString() {
        return "HuggingFaceTokenizer[" + source + ", " + tokens.length + " tokens]";
    }

    /** A growable int array. */
    private static final class IntBuffer {
        private int[] data;
        private int size;

        IntBuffer(int capacity) {
            data = new int[Math.max(8, capacity)];
        }

        void add(int v) {
            if (size == data.length) {
                data = Arrays.copyOf(data, size * 2);
            }
            data[size++] = v;
        }

        void addAll(int[] values, int count) {
            if (size + count > data.length) {
                data = Arrays.copyOf(data, Math.max(size + count, size * 2));
            }
            System.arraycopy(values, 0, data, size, count);
            size += count;
        }

        int[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }
}
