//! `dupin admin create EMAIL`: an account for scripts and for the first admin.

use std::process::ExitCode;

use super::{AdminCommand, Common};
use crate::accounts::{self, actions::create_account};
use crate::change::Actor;

/// Where `dupin admin create` takes the password from.
const ADMIN_PASSWORD_ENV: &str = "DUPIN_ADMIN_PASSWORD";

/// The new account's password: the environment variable, or one line of standard input (with a
/// prompt only when a person is typing it).
fn read_admin_password(email: &str) -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    if let Ok(password) = std::env::var(ADMIN_PASSWORD_ENV) {
        return Ok(password);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!(
            "Password for {email} (at least {} characters; it will be shown as you type): ",
            accounts::MIN_PASSWORD_CHARS
        );
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|error| {
        anyhow::anyhow!("cannot read the password from standard input: {error}")
    })?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

pub(super) async fn run(common: &Common, command: AdminCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdminCommand::Create { email, name, role } => {
            let Some(role) = accounts::Role::parse(&role) else {
                eprintln!("error: --role must be admin or supervisor");
                return Ok(ExitCode::FAILURE);
            };
            // Checked before asking for the password, so a typo costs nothing.
            if accounts::normalize_email(&email).is_err() {
                eprintln!("error: \"{email}\" is not a valid e-mail address");
                return Ok(ExitCode::FAILURE);
            }
            let password = read_admin_password(&email)?;
            let context = common.context().await?;
            let created = create_account(
                &context,
                Actor::CommandLine,
                accounts::NewAccount {
                    email: email.clone(),
                    display_name: name,
                    password,
                    role,
                    school_id: None,
                },
            )
            .await;
            let message = match created {
                Ok(account) => {
                    println!(
                        "Account {} created ({}). Sign in at {}/console/login",
                        account.email,
                        role.slug(),
                        common.base_url()
                    );
                    return Ok(ExitCode::SUCCESS);
                }
                Err(accounts::AccountError::BadEmail) => {
                    format!("\"{email}\" is not a valid e-mail address")
                }
                Err(accounts::AccountError::ShortPassword) => format!(
                    "the password must have at least {} characters (set {ADMIN_PASSWORD_ENV} or pipe it on standard input)",
                    accounts::MIN_PASSWORD_CHARS
                ),
                Err(accounts::AccountError::EmailTaken) => {
                    format!(
                        "an account with the e-mail {} already exists",
                        email.trim().to_lowercase()
                    )
                }
                Err(error) => return Err(error.into()),
            };
            eprintln!("error: {message}");
            Ok(ExitCode::FAILURE)
        }
    }
}
