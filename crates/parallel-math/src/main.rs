fn main() {
    casebook::main::<parallel_math::ParallelMath>()
}
