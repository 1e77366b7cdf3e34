fn main() {
    casebook::main::<db_queries::DbQueries>()
}
