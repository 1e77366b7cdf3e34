fn main() {
    casebook::main::<cancellation::Cancellation>()
}
