//! CoCM Registry desktop app: the Tauri shell. Every command is thin: it takes the open
//! registry, calls one core method and returns the core's types. No rule lives here.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod print;

use std::sync::Mutex;

fn main() {
    // Like the CLI: $COCM_DB chooses a registry, $COCM_AS the member the sign-in screen starts on.
    let state = commands::AppState::from_env();
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(Mutex::new(state))
        .invoke_handler(tauri::generate_handler![
            commands::registry_info,
            commands::choose_registry,
            commands::create_registry,
            commands::choose_demo_registry,
            commands::sign_in,
            commands::encrypt_registry,
            commands::sign_out,
            commands::lock_app,
            commands::unlock_app,
            commands::change_own_password,
            commands::accounts,
            commands::set_password,
            commands::unlock_account,
            commands::team,
            commands::caseload,
            commands::patient_chart,
            commands::instrument_items,
            commands::live_score,
            commands::record_assessment,
            commands::log_contact,
            commands::request_review,
            commands::record_case_review,
            commands::record_treatment_change,
            commands::change_status,
            commands::record_consent,
            commands::enroll_new_patient,
            commands::add_member,
            commands::settings,
            commands::set_setting,
            commands::billing_rule_sets,
            commands::set_billing_rules,
            commands::update_patient,
            commands::mark_entered_in_error,
            commands::queue,
            commands::billing,
            commands::export_billing_csv,
            commands::reports_view,
            commands::report_members,
            commands::export_report_csv,
            commands::import_preview,
            commands::import_file,
            commands::import_mappings,
            commands::save_import_mapping,
            commands::export_fhir,
            commands::import_fhir,
            print::print_page,
            print::save_pdf,
        ])
        .run(tauri::generate_context!())
        .expect("the CoCM Registry window failed to start");
}
