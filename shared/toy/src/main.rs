fn main() {
    casebook::main::<casebook_toy::Toy>()
}
