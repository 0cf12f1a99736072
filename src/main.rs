fn main() -> std::process::ExitCode {
    grizzly::cli::main()
}
