fn main() {
    casebook::main::<spawn_costs::SpawnCosts>()
}
