//! CoCM Registry desktop app: the Tauri shell. Every command is thin: it takes the open
//! registry, calls one core method and returns the core's types. No rule lives here.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod print;
mod remote;

use std::sync::Mutex;

fn main() {
    // Like the CLI: $COCM_DB chooses a registry, $COCM_AS the member the sign-in screen starts on.
    let state = commands::AppState::from_env();
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(Mutex::new(state))
        .invoke_handler(tauri::generate_handler![
            commands::registry_info,
            commands::check_server,
            commands::connect_server,
            commands::choose_registry,
            commands::create_registry,
            commands::choose_demo_registry,
            commands::sign_in,
            commands::encrypt_registry,
            commands::sign_out,
            commands::lock_app,
            commands::unlock_app,
            commands::run,
            print::print_page,
            print::save_pdf,
        ])
        .run(tauri::generate_context!())
        .expect("the CoCM Registry window failed to start");
}
