package io.quantgate.reports;

import java.awt.Color;
import java.util.List;
import java.util.Map;

/**
 * One color per weight format and one per backend, the same in every chart of every report, so that a reader who
 * learned "fp4 is orange" in one chart can read the next without its legend. Configurations of one format share its
 * hue, lighter or darker by their position among that format's configurations. Names not listed here (a backend or
 * format added later) get a color from {@link #EXTRA} chosen by their name's hash, which is stable across runs.
 */
final class Palette {
    static final Map<String, Color> FORMATS = Map.of(
            "fp32", new Color(0x59, 0x59, 0x59),
            "bf16", new Color(0x8c, 0x56, 0x4b),
            "fp16", new Color(0x17, 0xbe, 0xcf),
            "int8", new Color(0x1f, 0x77, 0xb4),
            "int4", new Color(0x2c, 0xa0, 0x2c),
            "int4s", new Color(0xbc, 0xbd, 0x22),
            "nf4", new Color(0x94, 0x67, 0xbd),
            "fp4", new Color(0xff, 0x7f, 0x0e),
            "mixed", new Color(0xd6, 0x27, 0x28));

    static final Map<String, Color> BACKENDS = Map.of(
            "native", new Color(0x1f, 0x77, 0xb4),
            "llamacpp", new Color(0xff, 0x7f, 0x0e),
            "onnxruntime", new Color(0x2c, 0xa0, 0x2c),
            "jlama", new Color(0xd6, 0x27, 0x28),
            "java", new Color(0x94, 0x67, 0xbd),
            "external", new Color(0x8c, 0x56, 0x4b));

    static final List<Color> EXTRA = List.of(new Color(0xe3, 0x77, 0xc2), new Color(0x7f, 0x7f, 0x7f),
            new Color(0x39, 0x3b, 0x79), new Color(0x63, 0x79, 0x39), new Color(0x84, 0x3c, 0x39),
            new Color(0x7b, 0x41, 0x73));

    /** The color of reference lines and other non-data marks. */
    static final Color REFERENCE = new Color(0x55, 0x55, 0x55);

    private Palette() {
    }

    static Color format(String format) {
        return FORMATS.getOrDefault(format, extra(format));
    }

    static Color backend(String backend) {
        return BACKENDS.getOrDefault(backend, extra(backend));
    }

    /**
     * The color of the {@code index}-th of {@code count} configurations of a format: the format's color for a single
     * one, otherwise shades from darker to lighter around it.
     */
    static Color config(String format, int index, int count) {
        Color base = format(format);
        if (count <= 1) {
            return base;
        }
        double t = -0.45 + 0.9 * index / (count - 1); // -0.45 = 45 % toward black … +0.45 = 45 % toward white
        return t < 0 ? blend(base, Color.BLACK, -t) : blend(base, Color.WHITE, t);
    }

    private static Color blend(Color a, Color b, double t) {
        return new Color((int) Math.round(a.getRed() + (b.getRed() - a.getRed()) * t),
                (int) Math.round(a.getGreen() + (b.getGreen() - a.getGreen()) * t),
                (int) Math.round(a.getBlue() + (b.getBlue() - a.getBlue()) * t));
    }

    private static Color extra(String name) {
        return EXTRA.get(Math.floorMod(name == null ? 0 : name.hashCode(), EXTRA.size()));
    }
}
