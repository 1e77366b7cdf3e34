fn main() {
    casebook::main::<bridges::Bridges>()
}
