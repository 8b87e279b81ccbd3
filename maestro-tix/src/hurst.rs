//! Hurst exponent estimators: R/S pox plot (port of Teverovsky's `crs`) and the Abry–Veitch
//! wavelet estimator (port of R `fArma::waveletFit` with a db2 DWT, pywt `periodic` extension).
//!
//! Both return a plain reason string on failure; the analysis wraps it in
//! [`TixError::Hurst`](crate::TixError::Hurst).

/// R/S constants of the reference implementation.
const NBLK: usize = 5;
const NLAG: usize = 50;
const POWER1: f64 = 0.7;
const POWER2: f64 = 2.5;

/// Daubechies-2 decomposition low-pass filter (pywt `dec_lo`).
pub const DB2_DEC_LO: [f64; 4] = [-0.12940952255092145, 0.22414386804185735, 0.836516303737469, 0.48296291314469025];
/// Daubechies-2 decomposition high-pass filter (pywt `dec_hi`).
pub const DB2_DEC_HI: [f64; 4] = [-0.48296291314469025, 0.836516303737469, -0.22414386804185735, -0.12940952255092145];

/// Ordinary least squares slope of `y` on `x`; `None` when `x` is constant or empty.
pub(crate) fn ols_slope(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 2 {
        return None;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let my = y[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (a, b) in x[..n].iter().zip(&y[..n]) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
    }
    (sxx > 0.0).then(|| sxy / sxx).filter(|s| s.is_finite())
}

/// The R and R/S statistics of `crs`: `(r, radj)`, each `NBLK * NLAG` long.
fn crs(data: &[f64]) -> Result<(Vec<f64>, Vec<f64>), &'static str> {
    let n = data.len();
    let blk = n / NBLK;
    if blk < 1 {
        return Err("series shorter than the number of blocks");
    }
    let mut xc = Vec::with_capacity(n);
    let mut xsq = Vec::with_capacity(n);
    let (mut c, mut s) = (0.0, 0.0);
    for (i, &v) in data.iter().enumerate() {
        if i == 0 {
            c = v;
            s = v * v;
        } else {
            c += v;
            s += v * v;
        }
        xc.push(c);
        xsq.push(s);
    }
    let mut r = vec![0.0; NBLK * NLAG];
    let mut ra = vec![0.0; NBLK * NLAG];
    let increment = (n as f64).log10() / NLAG as f64;
    for k in 0..NLAG {
        let p = 10f64.powf(increment * (k + 1) as f64);
        let d = if k == NLAG - 1 { p as usize } else { p.ceil() as usize };
        if d == 0 {
            return Err("zero lag");
        }
        let mut correction = ((d as f64 - blk as f64) / blk as f64).ceil() as i64;
        if correction == NBLK as i64 {
            correction -= 1;
        }
        let nval = if d > blk { (NBLK as i64 - correction).max(0) as usize } else { NBLK };
        for i in 0..nval {
            let (base, base2) = if i == 0 { (0.0, 0.0) } else { (xc[blk * i - 1], xsq[blk * i - 1]) };
            let end = blk * i + d - 1;
            if end >= n {
                return Err("lag exceeds the series");
            }
            let ave = (1.0 / d as f64) * (if i == 0 { xc[end] } else { xc[end] - base });
            let (mut mx, mut mn) = (0.0f64, 0.0f64);
            for j in 0..d {
                let t =
                    if i == 0 { xc[j] - (j + 1) as f64 * ave } else { xc[blk * i + j] - base - (j + 1) as f64 * ave };
                if t > mx {
                    mx = t;
                } else if t < mn {
                    mn = t;
                }
            }
            let range = mx - mn;
            r[k * NBLK + i] = range;
            let second = (1.0 / d as f64) * (if i == 0 { xsq[end] } else { xsq[end] - base2 });
            ra[k * NBLK + i] = if second > ave * ave { range / (second - ave * ave).sqrt() } else { range };
        }
    }
    Ok((r, ra))
}

/// Hurst exponent by the R/S pox-plot method (`NBLK = 5`, `NLAG = 50`, lags with
/// `0.7 <= log10(lag) <= 2.5`).
///
/// # Errors
/// A reason when the series is too short or constant (no positive range).
pub fn rs(data: &[f64]) -> Result<f64, &'static str> {
    let n = data.len();
    if n < 2 * NBLK {
        return Err("series too short");
    }
    let (range, radj) = crs(data)?;
    let increment = (n as f64).log10() / NLAG as f64;
    let (mut x, mut r, mut ra, mut rc) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..NLAG {
        let e = i as f64 * increment;
        let lg = 10f64.powf(e).floor().log10();
        let slot =
            |v: &Vec<f64>| -> Vec<f64> { if i == 0 { Vec::new() } else { v[(i - 1) * NBLK..i * NBLK].to_vec() } };
        if e < POWER1 {
            rc.extend(slot(&range));
        }
        if e >= POWER1 && lg <= POWER2 {
            x.extend(std::iter::repeat_n(lg, NBLK));
            r.extend(slot(&range));
            ra.extend(slot(&radj));
        }
        if e > POWER2 {
            rc.extend(slot(&range));
        }
    }
    if !r.iter().any(|&v| v > 1e-10) || !rc.iter().any(|&v| v > 1e-10) {
        return Err("the series is constant");
    }
    let (mut ld, mut lra) = (Vec::new(), Vec::new());
    for ((xv, rv), rav) in x.iter().zip(&r).zip(&ra) {
        if *rv > 0.0 {
            ld.push(*xv);
            lra.push(rav.log10());
        }
    }
    ols_slope(&ld, &lra).ok_or("degenerate r/s regression")
}

/// One level of the db2 DWT with pywt's `periodic` extension:
/// `out[o] = Σ h[f] · x[(2o + 1 - f) mod n]`, `o < floor((n + 3) / 2)`.
pub fn dwt_db2_periodic(x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = x.len();
    if n == 0 {
        return (Vec::new(), Vec::new());
    }
    let out_len = (n + 3) / 2;
    let mut ca = Vec::with_capacity(out_len);
    let mut cd = Vec::with_capacity(out_len);
    for o in 0..out_len {
        let (mut a, mut d) = (0.0, 0.0);
        for f in 0..4 {
            let idx = (2 * o as i64 + 1 - f as i64).rem_euclid(n as i64) as usize;
            a += DB2_DEC_LO[f] * x[idx];
            d += DB2_DEC_HI[f] * x[idx];
        }
        ca.push(a);
        cd.push(d);
    }
    (ca, cd)
}

/// Hurst exponent by the wavelet (Abry–Veitch) estimator: db2, octaves `j1..=j2` (reference
/// `2..=8`, reduced to `noctave - 2` for short series).
///
/// # Errors
/// A reason when the series is too short for two octaves or has zero detail energy.
pub fn wavelet(data: &[f64], j1: usize, j2: usize) -> Result<f64, &'static str> {
    const N: usize = 2;
    const BOUND_EFFECT: usize = 2; // ceil(log2(2N))
    if data.len() < 2 {
        return Err("series too short");
    }
    let log_len = (usize::BITS - 1 - data.len().leading_zeros()) as usize;
    let length = 1usize << log_len;
    let noctave = log_len - 1;
    if noctave <= BOUND_EFFECT {
        return Err("series too short");
    }
    let j1 = j1.max(1);
    let j2 = j2.min(noctave - BOUND_EFFECT);
    if j2 <= j1 {
        return Err("fewer than two octaves available");
    }
    // details[k] = cD_{k+1}; only the first noctave - BOUND_EFFECT levels are needed.
    let mut approx = data[..length].to_vec();
    // Detail energy below this is rounding noise of a constant (or near-constant) series.
    let noise = approx.iter().map(|v| v * v).sum::<f64>() / length as f64 * 1e-24;
    let mut stat = Vec::with_capacity(noctave - BOUND_EFFECT);
    for j in 0..(noctave - BOUND_EFFECT) {
        let (a, d) = dwt_db2_periodic(&approx);
        approx = a;
        let end = ((1usize << (noctave - j)) - N).min(d.len());
        let c = d.get(N - 1..end).unwrap_or(&[]);
        if c.is_empty() {
            return Err("empty wavelet level");
        }
        let mean = c.iter().map(|v| v * v).sum::<f64>() / c.len() as f64;
        if mean.is_nan() || mean <= noise || !mean.is_finite() {
            return Err("zero wavelet energy");
        }
        stat.push(mean.ln() / 2f64.ln());
    }
    let xs: Vec<f64> = (j1..=j2).map(|i| i as f64).collect();
    let ys: Vec<f64> = (j1..=j2).map(|i| (stat[i - 1] + i as f64) / 2.0).collect();
    ols_slope(&xs, &ys).ok_or("degenerate wavelet regression")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dwt_lengths_and_constant_signal() {
        let (a, d) = dwt_db2_periodic(&[3.0; 512]);
        assert_eq!((a.len(), d.len()), (257, 257));
        assert!(d.iter().all(|v| v.abs() < 1e-12), "high-pass of a constant is zero");
        assert!(a.iter().all(|v| (v - 3.0 * std::f64::consts::SQRT_2).abs() < 1e-12));
        let mut n = 512;
        let mut lens = Vec::new();
        for _ in 0..7 {
            n = (n + 3) / 2;
            lens.push(n);
        }
        assert_eq!(lens, [257, 130, 66, 34, 18, 10, 6], "SPEC coefficient lengths");
    }

    #[test]
    fn ols_slope_basics() {
        assert_eq!(ols_slope(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]), Some(2.0));
        assert_eq!(ols_slope(&[1.0, 1.0], &[2.0, 4.0]), None);
        assert_eq!(ols_slope(&[], &[]), None);
    }
}
