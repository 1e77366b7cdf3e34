fn main() {
    casebook::main::<file_pipeline::FilePipeline>()
}
