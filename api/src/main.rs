//! The `xuncha` binary: `serve` (the default), `migrate`, `seed-demo`, `sweep-objects`,
//! `generate-city`.

use clap::{Parser, Subcommand};
use xuncha::config::Settings;
use xuncha::{startup, telemetry};

#[derive(Parser)]
#[command(
    version,
    about = "Xuncha (巡查): street inspection API. Settings come from XUNCHA_* variables."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Load a small demo city and print the demo users' passwords.
    SeedDemo,
    /// Delete photo objects that no database row points to (older than an hour).
    SweepObjects,
    /// Fill an empty database with a generated city for load tests (see docs/benchmarks.md).
    GenerateCity {
        #[arg(long, default_value_t = 2_000)]
        areas: usize,
        #[arg(long, default_value_t = 100_000)]
        shopfronts: usize,
        #[arg(long, default_value_t = 1_000_000)]
        cases: usize,
        /// One case in this many gets a before photo with real objects.
        #[arg(long, default_value_t = 50)]
        photo_every: usize,
        /// Inspectors `load.inspector.0..N` for the load tool.
        #[arg(long, default_value_t = 50)]
        inspectors: usize,
        /// The password of every load-test user.
        #[arg(long, default_value = "load-test-password-1")]
        password: String,
        /// Seed of the generator, for a reproducible city.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("xuncha: bad setting {err}");
            return std::process::ExitCode::from(2);
        }
    };
    telemetry::init(settings.log_format);
    match run(cli.command.unwrap_or(Command::Serve), settings).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xuncha: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let app = startup::Application::build(settings).await?;
            tracing::info!(port = app.port(), "xuncha is serving; API docs at /docs");
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let db = xuncha::state::connect_database(&settings).await?;
            xuncha::state::migrate(&db).await?;
            println!("migrations applied");
        }
        Command::SweepObjects => {
            let prepared = xuncha::state::prepare(settings).await?;
            let deleted = xuncha::services::photos::sweep_orphans(
                &prepared.state,
                chrono::Duration::hours(1),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("deleted {deleted} orphaned photo objects");
        }
        Command::GenerateCity {
            areas,
            shopfronts,
            cases,
            photo_every,
            inspectors,
            password,
            seed,
        } => {
            let prepared = xuncha::state::prepare(settings).await?;
            let started = std::time::Instant::now();
            let made = xuncha_tools::generate::generate(
                &prepared.state,
                xuncha_tools::generate::Plan {
                    areas,
                    shopfronts,
                    cases,
                    photo_every,
                    inspectors,
                    password,
                    seed,
                },
            )
            .await?;
            println!(
                "generated {} areas, {} shopfronts, {} cases, {} events, {} photos in {:.0?}",
                made.areas,
                made.shopfronts,
                made.cases,
                made.events,
                made.photos,
                started.elapsed()
            );
        }
        Command::SeedDemo => {
            let prepared = xuncha::state::prepare(settings).await?;
            let users = xuncha_tools::demo::seed(&prepared.state).await?;
            let mut out = String::from(
                "Demo city loaded: 示范区 (3 sub-districts, 6 communities, 12 grids), 7 departments, 300 shopfronts, 48 inspection sites and a checklist for campaigns.\nDemo users (passwords are new on every run):\n",
            );
            for user in users {
                out.push_str(&format!(
                    "  {:<18} {:<11} {}\n",
                    user.username,
                    user.role.as_str(),
                    user.password
                ));
            }
            // A reader that stops early (`| grep -q`, `| head`) is not an error.
            if let Err(err) =
                std::io::Write::write_all(&mut std::io::stdout().lock(), out.as_bytes())
                && err.kind() != std::io::ErrorKind::BrokenPipe
            {
                return Err(err.into());
            }
        }
    }
    Ok(())
}
