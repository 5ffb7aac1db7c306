package io.quantgate.cli;

import io.quantgate.kernels.format.ConfigId;
import io.quantgate.kernels.format.QuantizationConfig;
import io.quantgate.kernels.nativeimpl.ActivationMode;
import io.quantgate.kernels.nativeimpl.Isa;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Typed option values: a bad value is an error naming the option and what is wrong, before anything runs. */
final class Converters {
    private Converters() {
    }

    /** One config id (SPEC §2): {@code fp4-g128}, {@code uniform:int8}, {@code mixed:attn.*=fp4-g64,...}. */
    static final class Config implements CommandLine.ITypeConverter<QuantizationConfig> {
        @Override
        public QuantizationConfig convert(String value) {
            try {
                return QuantizationConfig.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /**
     * A comma-separated list of config ids, where a {@code mixed:} config keeps its own comma-separated rules: in
     * {@code fp16,mixed:attn.*=fp4-g64,mlp.*=fp4-g128,int8} the piece {@code mlp.*=fp4-g128} (it holds {@code =})
     * continues the mixed config before it.
     */
    static final class ConfigList implements CommandLine.ITypeConverter<Configs> {
        @Override
        public Configs convert(String value) {
            return new Configs(parseList(value));
        }
    }

    /** The value of a config-list option. */
    record Configs(List<QuantizationConfig> list) {
    }

    static List<QuantizationConfig> parseList(String value) {
        List<String> items = new ArrayList<>();
        for (String piece : value.split(",")) {
            String p = piece.strip();
            if (p.isEmpty()) {
                continue;
            }
            boolean openBracket = !items.isEmpty() && items.getLast().startsWith("mixed:auto[")
                    && !items.getLast().endsWith("]");
            if (openBracket || (p.contains("=") && !p.contains(":") && !items.isEmpty()
                    && items.getLast().startsWith("mixed:"))) {
                // a mixed: config's next rule, or the rest of mixed:auto[<budget>,<format>,...]
                items.set(items.size() - 1, items.getLast() + "," + p);
            } else {
                items.add(p);
            }
        }
        if (items.isEmpty()) {
            throw new CommandLine.TypeConversionException("empty list of configs");
        }
        List<QuantizationConfig> out = new ArrayList<>();
        for (String i : items) {
            try {
                out.add(QuantizationConfig.parse(i));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
        return out;
    }

    /** A uniform id (one weight format), as kernels take. */
    static final class Id implements CommandLine.ITypeConverter<ConfigId> {
        @Override
        public ConfigId convert(String value) {
            try {
                return ConfigId.parse(value.strip());
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** {@code fp32} or {@code int8}. */
    static final class Activations implements CommandLine.ITypeConverter<ActivationMode> {
        @Override
        public ActivationMode convert(String value) {
            try {
                return ActivationMode.fromId(value.strip());
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException("must be fp32, int8 or bf16, got '" + value + "'");
            }
        }
    }

    /** A kernel tier: {@code scalar}, {@code avx2}, {@code avx512}, {@code avx512bf16}, {@code neon}. */
    static final class IsaTier implements CommandLine.ITypeConverter<Isa> {
        @Override
        public Isa convert(String value) {
            try {
                return Isa.fromId(value.strip());
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** A weight shape, N outputs by K inputs. */
    record Shape(int n, int k) {
    }

    /** {@code NxK}. */
    static final class ShapeConverter implements CommandLine.ITypeConverter<Shape> {
        @Override
        public Shape convert(String value) {
            try {
                int[] s = io.quantgate.harness.Workload.parseShape(value);
                return new Shape(s[0], s[1]);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** The strings of a comma-separated option (empty pieces dropped). */
    static List<String> split(String v) {
        return Arrays.stream(v.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}
