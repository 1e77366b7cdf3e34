fn main() {
    casebook::main::<game_loop::GameLoop>()
}
