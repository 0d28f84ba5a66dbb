/* DaPa least-squares fits of ReLU under a Gaussian (see dapa.h). */
#include "dapa.h"

#include <math.h>

void ar_dapa_fit(double mu, double s, int degree, double c[3]) {
    if (!(s > 1e-12)) s = 1e-12;
    const double phi = exp(-mu * mu / (2.0 * s * s));
    const double Phi = 1.0 - 0.5 * erfc(mu / (sqrt(2.0) * s));
    if (degree <= 1) {
        c[2] = 0.0;
        c[1] = Phi;
        c[0] = s * phi / sqrt(2.0 * M_PI);
        return;
    }
    const double k = sqrt(2.0) / (4.0 * sqrt(M_PI));
    c[2] = k * phi / s;
    c[1] = Phi - 2.0 * k * mu * phi / s;
    c[0] = k * mu * mu * phi / s + k * s * phi;
}

void ar_dapa_stored(enum ar_dapa_mode mode, double mean, double var, int degree, double var_min, float a[3]) {
    double c[3];
    if (mode == AR_DAPA_FAITHFUL) {
        ar_dapa_fit(mean, var > var_min ? var : var_min, degree, c);
        a[0] = (float)(c[0] / 5.0);
        a[1] = (float)c[1];
        a[2] = (float)(c[2] / 10.0);
    } else {
        ar_dapa_fit(mean, sqrt(var > 0 ? var : 0), degree, c);
        a[0] = (float)c[0];
        a[1] = (float)c[1];
        a[2] = (float)c[2];
    }
}
