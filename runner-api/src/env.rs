//! How runners build a program's environment from a package's variables and the user's
//! grants (shared by every runner, so a package behaves the same on each).

/// A program's environment as the runners build it from a package's variables and the
/// ones the user granted: `package` first, then `granted`; a later value of a key replaces
/// an earlier one in place. Returns `KEY=VALUE` entries ([`merge_env`] as text).
pub fn merge_environ(package: &[(String, String)], granted: &[(String, String)]) -> Vec<String> {
    merge_env(package, granted)
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

/// [`merge_environ`] as `(key, value)` pairs, for runners that hand the environment on as
/// pairs.
pub fn merge_env(
    package: &[(String, String)],
    granted: &[(String, String)],
) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = Vec::new();
    for (k, v) in package.iter().chain(granted) {
        match vars.iter_mut().find(|(key, _)| key == k) {
            Some(slot) => slot.1.clone_from(v),
            None => vars.push((k.clone(), v.clone())),
        }
    }
    vars
}

/// A package's `KEY=VALUE` environment entry split at its first `=` (an entry without one
/// is `KEY=`), as Wasmer reads the `wasi` and `emscripten` annotations' `env`.
pub fn split_env_entry(entry: &str) -> (String, String) {
    match entry.split_once('=') {
        Some((k, v)) => (k.to_owned(), v.to_owned()),
        None => (entry.to_owned(), String::new()),
    }
}
