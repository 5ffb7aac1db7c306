package io.quantgate.reports;

import org.knowm.xchart.style.markers.Marker;

import java.awt.Graphics2D;
import java.awt.geom.Ellipse2D;

/**
 * A filled circle of a fixed diameter: XChart sizes markers per chart, and the PPL-vs-compression scatter sizes each
 * point by its tokens/s, so each point's halo series carries its own marker.
 */
final class SizedCircle extends Marker {
    private final double diameter;

    SizedCircle(double diameter) {
        this.diameter = diameter;
    }

    double diameter() {
        return diameter;
    }

    @Override
    public void paint(Graphics2D g, double x, double y, int ignoredChartMarkerSize) {
        g.fill(new Ellipse2D.Double(x - diameter / 2, y - diameter / 2, diameter, diameter));
    }
}
