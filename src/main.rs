use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = agora::cli::Cli::parse();
    let system = actix_web::rt::System::new();
    match system.block_on(agora::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
