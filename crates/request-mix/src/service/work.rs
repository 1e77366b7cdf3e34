//! The CPU part of a request: BLAKE3 chained over a small block, a real kernel whose cost
//! grows in steps of a fraction of a microsecond, calibrated once per run of the case so that
//! "100 µs of CPU" means 100 µs on this machine, in this build.

use std::time::Instant;

/// The block each unit of work hashes: small, so a unit is a fraction of a microsecond and a
/// request's CPU can be set to within one.
const BLOCK: [u8; 256] = {
    let mut block = [0u8; 256];
    let mut i = 0;
    while i < block.len() {
        block[i] = (i as u8).wrapping_mul(31).wrapping_add(7);
        i += 1;
    }
    block
};

// ANCHOR: crunch
/// `units` rounds of BLAKE3, each keyed by the last one's output, starting from the request's
/// id: the same answer on every variant, impossible to skip or to hoist out of the loop.
pub fn crunch(id: u64, units: u32) -> u64 {
    let mut state = [0u8; 32];
    state[..8].copy_from_slice(&id.to_le_bytes());
    for _ in 0..units {
        state = *blake3::keyed_hash(&state, &BLOCK).as_bytes();
    }
    u64::from_le_bytes(state[..8].try_into().expect("8 bytes"))
}
// ANCHOR_END: crunch

/// Nanoseconds one unit takes on this machine: the fastest of several timed batches of about
/// 5 ms each, so that a burst of background load during calibration does not make every
/// request of the run shorter than it says.
pub fn calibrate() -> f64 {
    let time = |units: u32| {
        let start = Instant::now();
        std::hint::black_box(crunch(std::hint::black_box(1), units));
        start.elapsed().as_nanos() as f64 / f64::from(units.max(1))
    };
    let first = time(200).max(1.0);
    let units = ((5e6 / first) as u32).clamp(200, 10_000_000);
    (0..7).map(|_| time(units)).fold(f64::INFINITY, f64::min).max(0.1)
}

/// The units that make `cpu_us` µs at `unit_ns` per unit.
pub fn units_for(cpu_us: u32, unit_ns: f64) -> u32 {
    (f64::from(cpu_us) * 1000.0 / unit_ns).round().min(f64::from(u32::MAX)) as u32
}

/// How long `units` take here, in µs: the median of five, timed before a run starts, so
/// the report shows what a request's CPU really cost in the measured process.
pub fn time_units(units: u32) -> f64 {
    let mut samples: Vec<f64> = (0..5u64)
        .map(|seed| {
            let start = Instant::now();
            std::hint::black_box(crunch(seed, units));
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_depends_on_id_and_units_alone() {
        assert_eq!(crunch(3, 10), crunch(3, 10));
        assert_ne!(crunch(3, 10), crunch(4, 10));
        assert_ne!(crunch(3, 10), crunch(3, 11));
        assert_eq!(crunch(3, 0), 3);
        assert_eq!(units_for(100, 250.0), 400);
        assert_eq!(units_for(0, 250.0), 0);
        assert!(calibrate() > 0.0);
    }
}
