//! `cocm serve`: runs the practice server until Ctrl-C or SIGTERM, then finishes the requests
//! in flight and signs everyone out.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use cocm::server::{CertFiles, ServerOptions};
use cocm::{Error, Registry, Result};

#[derive(Args)]
pub struct ServeArgs {
    /// The address and port to listen on (0.0.0.0:8443 for the practice's network)
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// The server's certificate (PEM) [default: a self-signed one made beside the registry]
    #[arg(long, value_name = "PEM", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM)
    #[arg(long, value_name = "PEM", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve the patient pages (questionnaire links) on this address alone, e.g. 0.0.0.0:443 for
    /// the internet, while the staff server stays on --listen [default: on --listen, under /r/]
    #[arg(long, value_name = "ADDR")]
    patient_listen: Option<SocketAddr>,
    /// The built UI to serve to browsers [default: $COCM_UI_DIR, else share/cocm/ui beside the
    /// binary, else ui/dist]
    #[arg(long, value_name = "DIR")]
    ui: Option<PathBuf>,
}

/// The built UI: the flag, else `$COCM_UI_DIR`, else the package's `/usr/share/cocm/ui` (beside
/// the binary's `bin/`), else a source tree's `ui/dist`.
fn ui_dir(flag: Option<PathBuf>) -> Option<PathBuf> {
    let packaged = std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.parent()?.join("share/cocm/ui")));
    flag.or_else(|| std::env::var_os("COCM_UI_DIR").map(PathBuf::from))
        .into_iter()
        .chain(packaged)
        .chain([PathBuf::from("ui/dist")])
        .find(|dir| dir.join("index.html").is_file())
}

pub fn serve(db: PathBuf, registry: Registry, args: ServeArgs) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("COCM_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let tls = args.tls_cert.zip(args.tls_key).map(|(cert, key)| CertFiles { cert, key });
    let ui = ui_dir(args.ui);
    let practice = registry.practice_name()?;
    let certs = tls.clone().unwrap_or_else(|| CertFiles::beside(&db));
    let options = ServerOptions { db, listen: args.listen, tls, ui: ui.clone(), idle_limit: None, patient_listen: args.patient_listen };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let server = cocm::server::start(options, registry).await?;
        println!("serving {practice} at https://{}", server.addr);
        match (server.made_certificate, certs.cert.display()) {
            (true, cert) => println!("made a self-signed certificate: {cert}"),
            (false, cert) => println!("certificate: {cert}"),
        }
        println!("SHA-256 fingerprint: {}", server.fingerprint);
        match server.patient_addr {
            Some(at) => println!("patient pages: https://{at}/r/… (and nothing else on that address)"),
            None => println!("patient pages: https://{}/r/… (use --patient-listen to give them an address of their own)", server.addr),
        }
        match &ui {
            Some(dir) => println!("browsers: https://{} (the UI from {})", server.addr, dir.display()),
            None => println!("no UI folder found: serving the API only (build it with `make ui`, or pass --ui DIR)"),
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
        stopped().await;
        println!("stopping: finishing requests in flight");
        server.shutdown(Duration::from_secs(30)).await;
        Ok::<(), Error>(())
    })
}

/// Ctrl-C, or SIGTERM (systemd's stop).
async fn stopped() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
