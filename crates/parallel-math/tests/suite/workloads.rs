//! The two workloads on their own: the answers they must give and the shape that makes
//! each one the test it is (uneven Mandelbrot rows, symmetric n-body forces).

use parallel_math::workloads::{Workload, mandelbrot::Mandelbrot, nbody::Snapshot};

#[test]
fn points_inside_the_set_reach_max_iter_and_outside_escape() {
    let m = Mandelbrot { width: 4, height: 4, max_iter: 500 };
    assert_eq!(m.escape_time(0.0, 0.0), 500);
    assert_eq!(m.escape_time(-1.0, 0.0), 500);
    assert!(m.escape_time(1.0, 1.0) < 5);
}

#[test]
fn mandelbrot_rows_are_uneven() {
    let m = Mandelbrot { width: 200, height: 100, max_iter: 500 };
    let cost = |row: usize| m.compute(row).iter().map(|&c| c as u64).sum::<u64>();
    let first_half: u64 = (0..50).map(cost).sum();
    let second_half: u64 = (50..100).map(cost).sum();
    // The off-centre view puts far more work in one half than the other.
    assert!(first_half > 2 * second_half || second_half > 2 * first_half, "{first_half} vs {second_half}");
}

#[test]
fn two_bodies_attract_each_other_equally() {
    let s = Snapshot { positions: vec![[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]], masses: vec![1.0, 1.0] };
    let a0 = s.compute(0);
    let a1 = s.compute(1);
    assert!(a0[0] > 0.0 && a1[0] < 0.0);
    assert!((a0[0] + a1[0]).abs() < 1e-12);
}
