//! Printing the page: the print dialog (which can also print to a PDF file), and saving the
//! page as a PDF without a dialog, both through WebKitGTK so that the page's print styles
//! apply. The program report's print layout lives in the UI's `@media print` rules.

use cocm::{Error, ErrorPayload};
use tauri::WebviewWindow;

type Reply<T> = Result<T, ErrorPayload>;

fn failed(what: &str, e: impl std::fmt::Display) -> ErrorPayload {
    Error::Storage(format!("{what}: {e}")).payload()
}

/// Opens the system print dialog for the page. `what` names the page for the audit log (an
/// export: a practice lead's).
#[tauri::command]
pub fn print_page(window: WebviewWindow, state: tauri::State<'_, std::sync::Mutex<crate::commands::AppState>>, what: String) -> Reply<()> {
    crate::commands::record_export(&state, &format!("{what}-print"), serde_json::json!({}))?;
    window.print().map_err(|e| failed("printing", e))
}

/// Writes the page, as it prints, to a PDF file at `path` (the path the save dialog chose).
#[tauri::command]
pub async fn save_pdf(
    window: WebviewWindow,
    state: tauri::State<'_, std::sync::Mutex<crate::commands::AppState>>,
    what: String,
    path: String,
) -> Reply<()> {
    let path = std::path::absolute(&path).map_err(|e| failed("path", e))?;
    if path.parent().is_none_or(|dir| !dir.is_dir()) {
        return Err(Error::validation("path", format!("{} is not in an existing folder", path.display())).payload());
    }
    crate::commands::record_export(&state, &format!("{what}-pdf"), serde_json::json!({ "file": path.display().to_string() }))?;
    let (done, finished) = std::sync::mpsc::channel::<Result<(), String>>();
    #[cfg(target_os = "linux")]
    {
        use webkit2gtk::{PrintOperation, PrintOperationExt};
        let uri = format!("file://{}", path.display());
        window
            .with_webview(move |webview| {
                let op = PrintOperation::new(&webview.inner());
                let settings = gtk::PrintSettings::new();
                settings.set_printer("Print to File");
                settings.set("output-file-format", Some("pdf"));
                settings.set("output-uri", Some(&uri));
                op.set_print_settings(&settings);
                let failed = done.clone();
                op.connect_finished(move |_| {
                    let _ = done.send(Ok(()));
                });
                op.connect_failed(move |_, e| {
                    let _ = failed.send(Err(e.to_string()));
                });
                op.print();
            })
            .map_err(|e| failed("saving the PDF", e))?;
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (&window, &done);
        return Err(Error::Storage("saving a PDF is only built for Linux; use Print… instead".into()).payload());
    }
    #[allow(unreachable_code)]
    match finished.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(Ok(())) if path.is_file() => Ok(()),
        Ok(Ok(())) => Err(failed("saving the PDF", "the print operation finished without writing the file")),
        Ok(Err(e)) => Err(failed("saving the PDF", e)),
        Err(_) => Err(failed("saving the PDF", "no answer from the print operation within 60 s")),
    }
}
