fn main() {
    casebook::tool::main()
}
