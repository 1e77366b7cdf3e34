fn main() {
    casebook::main::<request_mix::RequestMix>()
}
