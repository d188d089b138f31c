//! The app as a client of a practice server: the start screen checks a server's certificate,
//! the user compares its fingerprint with the one `cocm serve` printed and pins it, and from
//! then on every command goes to the server (`cocm::client`), which refuses a different
//! certificate. Saves from other workstations arrive as `data-changed` events.

use cocm::client::{self, Client, ServerCheck};
use cocm::{Error, Result};
use serde_json::Value;

pub struct Remote {
    pub client: Client,
    /// The member signed in through this app. After an auto-lock, or a session the server
    /// ended (idle, 12 hours, a restart), only their password opens the app again; it is kept
    /// here because the server no longer says who it was.
    pub signed_in_as: Option<String>,
}

/// A first look at the server at `url`: the fingerprint it presents and the one pinned for it.
pub fn check(url: &str) -> Result<ServerCheck> {
    client::check_server(url)
}

/// Connects to the server at `url`, trusting `fingerprint` (which the user confirmed, or which
/// was pinned before). A pinned server presenting another certificate is refused.
pub fn connect(url: &str, fingerprint: &str) -> Result<(Remote, Value)> {
    let fingerprint = cocm::server::tls::normalise_fingerprint(fingerprint)?;
    if let Some(pinned) = client::pinned(url)?
        && pinned != fingerprint
    {
        return Err(Error::Auth(format!(
            "the certificate of {url} is not the one this computer trusted before; it may not be your practice server. \
             Ask whoever runs the server whether its certificate was replaced"
        )));
    }
    let mut client = Client::new(url, &fingerprint)?;
    let start = client.start_state()?;
    client::pin(url, &fingerprint)?;
    Ok((Remote { client, signed_in_as: None }, start))
}

/// Emits `data-changed` to the window whenever the server's data version moves, until the
/// session ends (the stream closes).
pub fn follow_changes(client: &Client, app: tauri::AppHandle) {
    use tauri::Emitter;
    let Ok(events) = client.request_stream("/api/events") else { return };
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut last: Option<String> = None;
        for line in std::io::BufReader::new(events).lines().map_while(std::result::Result::ok) {
            if let Some(version) = line.strip_prefix("data:").map(str::trim) {
                if last.as_deref().is_some_and(|l| l != version) {
                    let _ = app.emit("data-changed", version);
                }
                last = Some(version.to_string());
            }
        }
    });
}
