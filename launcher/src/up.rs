//! `agw up`: build, start every service as its own process, report the URLs, stop cleanly on Ctrl-C.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::{Child, Command};

use crate::local::{ServiceSpec, Topology};

const REDIS_ADDR: &str = "127.0.0.1:6379";
const HEALTH_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_GRACE: Duration = Duration::from_secs(20);

/// A started process.
pub struct Running {
    pub name: String,
    pub child: Child,
}

pub async fn run(data_dir: &Path, build: bool) -> anyhow::Result<()> {
    let bin_dir = std::env::current_exe()?
        .parent()
        .context("the agw binary has no parent directory")?
        .to_path_buf();
    if build {
        build_services(&bin_dir).await?;
    }
    fs::create_dir_all(data_dir.join("logs/services"))?;
    fs::create_dir_all(data_dir.join("logs/tasks"))?;
    fs::create_dir_all(data_dir.join("workspaces"))?;
    let data_dir = data_dir.canonicalize()?;

    let mut running = Vec::new();
    if let Some(redis) = ensure_redis(&data_dir).await? {
        running.push(redis);
    }
    let topology = Topology::local(&data_dir, &bin_dir);
    let services = topology.services();
    for spec in &services {
        running.push(start(spec, &bin_dir, &data_dir.join("logs/services"))?);
    }
    let healthy = wait_healthy(&services).await;
    print_urls(&services, &data_dir);
    if let Err(e) = healthy {
        eprintln!("\n{e}");
    }
    println!("\nPress Ctrl-C to stop everything.");

    tokio::select! {
        _ = tokio::signal::ctrl_c() => println!("\nstopping…"),
        name = first_exit(&mut running) => eprintln!("\n{name} exited; stopping the rest (see its log under {})", data_dir.join("logs/services").display()),
    }
    stop_all(running).await;
    Ok(())
}

async fn build_services(bin_dir: &Path) -> anyhow::Result<()> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    command.current_dir(&workspace).args(["build", "--bins"]);
    if bin_dir.ends_with("release") {
        command.arg("--release");
    }
    for spec in Topology::local(Path::new("."), bin_dir).services() {
        command.args(["-p", spec.name]);
    }
    command.args(["-p", "launcher"]);
    println!("building the services…");
    let status = command.status().await.context("could not run cargo")?;
    if !status.success() {
        bail!("cargo build failed");
    }
    Ok(())
}

/// Uses the running Redis, or starts the installed one (stopped with the rest), or says how to get one.
async fn ensure_redis(data_dir: &Path) -> anyhow::Result<Option<Running>> {
    if tokio::net::TcpStream::connect(REDIS_ADDR).await.is_ok() {
        println!("redis:           using the one running on {REDIS_ADDR}");
        return Ok(None);
    }
    let installed = std::process::Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        bail!(
            "Redis is not running on {REDIS_ADDR} and redis-server is not installed.\n\
             Install it (Debian/Ubuntu: sudo apt-get install redis-server) and run `agw up` again."
        );
    }
    let log = File::create(data_dir.join("logs/services/redis.log"))?;
    let child = Command::new("redis-server")
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            "6379",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .current_dir(data_dir)
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .context("could not start redis-server")?;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(REDIS_ADDR).await.is_ok() {
            println!("redis:           started on {REDIS_ADDR}");
            return Ok(Some(Running {
                name: "redis-server".to_owned(),
                child,
            }));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!(
        "redis-server did not start; see {}",
        data_dir.join("logs/services/redis.log").display()
    )
}

/// Starts one service as its own process group, its output in `{log_dir}/{instance}.log`.
pub fn start(spec: &ServiceSpec, bin_dir: &Path, log_dir: &Path) -> anyhow::Result<Running> {
    let binary: PathBuf = bin_dir.join(spec.name);
    let log = File::create(log_dir.join(format!("{}.log", spec.instance)))?;
    let mut command = Command::new(&binary);
    command
        .args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (*k, v.as_str())))
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
        )
        .current_dir(log_dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Their own process group: Ctrl-C reaches only agw, which stops them in order.
        .process_group(0)
        // A panicking caller (a failing system test) must not leave services behind.
        .kill_on_drop(true);
    let child = command.spawn().with_context(|| {
        format!(
            "could not start {} (is it built? {})",
            spec.name,
            binary.display()
        )
    })?;
    Ok(Running {
        name: spec.instance.clone(),
        child,
    })
}

/// Waits until every service answers `/health`, naming those that do not.
pub async fn wait_healthy(services: &[ServiceSpec]) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let deadline = tokio::time::Instant::now() + HEALTH_TIMEOUT;
    let mut unhealthy = Vec::new();
    for spec in services {
        let url = format!("http://127.0.0.1:{}/health", spec.port);
        loop {
            if client
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                unhealthy.push(spec.name);
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    if unhealthy.is_empty() {
        Ok(())
    } else {
        bail!(
            "not healthy after {HEALTH_TIMEOUT:?}: {}",
            unhealthy.join(", ")
        )
    }
}

fn print_urls(services: &[ServiceSpec], data_dir: &Path) {
    println!("\nagent-gateway is running (local mode: development secrets, loopback only)\n");
    for spec in services {
        let base = format!("http://127.0.0.1:{}", spec.port);
        let page = spec.page.map(|p| format!("{base}{p}")).unwrap_or_default();
        println!("  {:<18} {base}/docs   {page}", spec.instance);
    }
    println!("\n  dashboard:       http://127.0.0.1:8090/");
    println!(
        "  task logs:       {}",
        data_dir.join("logs/tasks").display()
    );
    println!(
        "  service logs:    {}",
        data_dir.join("logs/services").display()
    );
    println!(
        "\nTry: cargo run --release -p launcher -- send github issue-comment \"@agent explain src/main.rs\""
    );
}

async fn first_exit(running: &mut [Running]) -> String {
    loop {
        for process in running.iter_mut() {
            if let Ok(Some(_)) = process.child.try_wait() {
                return process.name.clone();
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// SIGTERM to every process, newest first, then SIGKILL to any still running after the grace period.
pub async fn stop_all(mut running: Vec<Running>) {
    running.reverse();
    for process in &running {
        if let Some(pid) = process.child.id().and_then(|id| i32::try_from(id).ok()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
        }
    }
    for mut process in running {
        match tokio::time::timeout(STOP_GRACE, process.child.wait()).await {
            Ok(_) => println!("  stopped {}", process.name),
            Err(_) => {
                let _ = process.child.kill().await;
                println!(
                    "  killed {} (it did not stop within {STOP_GRACE:?})",
                    process.name
                );
            }
        }
    }
}
