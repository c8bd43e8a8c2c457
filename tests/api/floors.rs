//! The house keeps its floors (ARCHITECTURE.md): a module imports only from its own floor or
//! the ones below, a resource never from another resource's handlers, nothing below the http
//! floor registers a route, and no two files import each other, however indirectly.
//!
//! Read from the source text (`use crate::...` and `crate::...` paths), not with a parser: the
//! code base spells its imports plainly, and a check this small is easy to trust.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The floor of every top-level module of `src/`, from the bottom.
const FLOORS: &[(&str, u8)] = &[
    // 1 foundation
    ("clock", 1),
    ("config", 1),
    ("db", 1),
    ("error", 1),
    ("etag", 1),
    ("extract", 1),
    ("openapi", 1),
    ("origin", 1),
    ("pagination", 1),
    ("response_headers", 1),
    ("secrets", 1),
    ("telemetry", 1),
    ("text_enum", 1),
    ("validation", 1),
    // 2 domain
    ("accounts", 2),
    ("audit", 2),
    ("mail", 2),
    ("permissions", 2),
    ("policy", 2),
    ("webhooks", 2),
    // 3 identity and state
    ("identity", 3),
    ("idempotency", 3),
    ("state", 3),
    ("write", 3),
    // 4 resources
    ("audit_events", 4),
    ("authz", 4),
    ("cost_centers", 4),
    ("customers", 4),
    ("groups", 4),
    ("health", 4),
    ("invitations", 4),
    ("me", 4),
    ("permission_catalog", 4),
    ("scim", 4),
    ("sessions", 4),
    ("signin", 4),
    ("api_clients", 4),
    ("oauth", 4),
    ("staff", 4),
    ("users", 4),
    ("warehouse_addresses", 4),
    ("webhook_endpoints", 4),
    // 5 http
    ("cors", 5),
    ("routes", 5),
    ("startup", 5),
    // 6 command line
    ("cli", 6),
    ("main", 6),
    ("lib", 6),
];
const RESOURCES: u8 = 4;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/users/handlers.rs` -> `["users", "handlers"]`; `src/users/mod.rs` -> `["users"]`.
fn module_path(file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src()).expect("under src");
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs").to_owned();
        if stem != "mod" {
            parts.push(stem);
        }
    }
    parts
}

fn floor_of(module: &str) -> u8 {
    FLOORS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, floor)| *floor)
        .unwrap_or_else(|| panic!("src/{module}: give the module a floor in tests/api/floors.rs"))
}

/// The code of a file without comments, so a path in a doc comment is not taken for an import,
/// and without its unit tests (`super` means something else inside `mod tests`).
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Every module path a file names: `crate::a::b::C` gives `[a, b, C]`; `use crate::{a, b::c}`
/// gives `[a]` and `[b, c]`; `super::x` is resolved against the file's own module.
fn referenced_paths(file: &Path, code: &str) -> Vec<Vec<String>> {
    let own = module_path(file);
    let mut paths = Vec::new();
    // `a::b::C; rest` -> [a, b, C]: a path ends at the first character that is not part of one.
    let words = |text: &str| -> Vec<String> {
        let mut out = Vec::new();
        for piece in text.split("::") {
            let word: String = piece.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            let ends_here = word.len() < piece.len();
            if word.is_empty() {
                break;
            }
            out.push(word);
            if ends_here {
                break;
            }
        }
        out
    };
    for (at, _) in code.match_indices("crate::") {
        if at > 0 && code[..at].ends_with('$') {
            continue;
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for item in inner.split(',') {
                let item = item.trim();
                if !item.is_empty() {
                    paths.push(words(item));
                }
            }
        } else {
            paths.push(words(rest));
        }
    }
    for (at, _) in code.match_indices("super::") {
        if at > 0 && code[..at].ends_with("super::") {
            continue;
        }
        // In `users/handlers.rs` and in `users/mod.rs` alike, `super` is the enclosing module.
        let parent: Vec<String> = own[..own.len().saturating_sub(1)].to_vec();
        let rest = &code[at + "super::".len()..];
        let named = if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            inner.split(',').map(|i| words(i.trim())).filter(|w| !w.is_empty()).collect()
        } else {
            vec![words(rest)]
        };
        for tail in named {
            let mut path = parent.clone();
            path.extend(tail);
            paths.push(path);
        }
    }
    paths.retain(|p| !p.is_empty());
    paths
}

/// The file a module path lands in: the longest prefix that is a file of `src/`.
fn file_of(path: &[String], files: &BTreeSet<PathBuf>) -> Option<PathBuf> {
    for len in (1..=path.len()).rev() {
        let dir = path[..len].iter().fold(src(), |p, part| p.join(part));
        for candidate in [dir.with_extension("rs"), dir.join("mod.rs")] {
            if files.contains(&candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

struct House {
    files: BTreeSet<PathBuf>,
    /// file -> the files it imports from.
    imports: BTreeMap<PathBuf, BTreeSet<PathBuf>>,
    texts: BTreeMap<PathBuf, String>,
}

fn house() -> House {
    let mut list = Vec::new();
    rust_files(&src(), &mut list);
    let files: BTreeSet<PathBuf> = list.into_iter().collect();
    let mut imports = BTreeMap::new();
    let mut texts = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read");
        let code = code_of(&text);
        let targets: BTreeSet<PathBuf> = referenced_paths(file, &code)
            .iter()
            .filter_map(|path| file_of(path, &files))
            .filter(|target| target != file)
            .collect();
        imports.insert(file.clone(), targets);
        texts.insert(file.clone(), code);
    }
    House { files, imports, texts }
}

fn top(file: &Path) -> String {
    module_path(file).first().cloned().unwrap_or_else(|| "lib".into())
}

fn name(file: &Path) -> String {
    file.strip_prefix(src().parent().expect("root")).unwrap_or(file).display().to_string()
}

#[test]
fn every_import_points_down_or_sideways_between_resources() {
    let house = house();
    let mut wrong = Vec::new();
    for (file, targets) in &house.imports {
        let (from, from_floor) = (top(file), floor_of(&top(file)));
        for target in targets {
            let (to, to_floor) = (top(target), floor_of(&top(target)));
            if to_floor > from_floor {
                wrong.push(format!(
                    "{} (floor {from_floor}) imports {} (floor {to_floor})",
                    name(file),
                    name(target)
                ));
            }
            let is_handler = house.texts[target].contains("#[utoipa::path");
            if from_floor == RESOURCES && to_floor == RESOURCES && from != to && is_handler {
                wrong.push(format!("{} uses the handlers of another resource: {}", name(file), name(target)));
            }
        }
    }
    assert!(wrong.is_empty(), "imports that break the floors:\n{}", wrong.join("\n"));
}

#[test]
fn only_the_http_floor_registers_routes() {
    let house = house();
    let registering: Vec<String> = house
        .files
        .iter()
        .filter(|file| floor_of(&top(file)) < 5 && house.texts[*file].contains(".service("))
        .map(|file| name(file))
        .collect();
    assert!(registering.is_empty(), "routes registered below src/routes.rs: {registering:?}");
}

#[test]
fn no_two_files_import_each_other_however_indirectly() {
    let house = house();
    // Tarjan's strongly connected components: any component of more than one file is a circle.
    struct Search<'a> {
        graph: &'a BTreeMap<PathBuf, BTreeSet<PathBuf>>,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on_stack: BTreeSet<&'a PathBuf>,
        circles: Vec<Vec<String>>,
    }
    impl<'a> Search<'a> {
        fn visit(&mut self, file: &'a PathBuf) {
            let next = self.index.len();
            self.index.insert(file, next);
            self.low.insert(file, next);
            self.stack.push(file);
            self.on_stack.insert(file);
            for target in &self.graph[file] {
                if !self.index.contains_key(target) {
                    self.visit(target);
                    let low = self.low[target].min(self.low[file]);
                    self.low.insert(file, low);
                } else if self.on_stack.contains(target) {
                    let low = self.index[target].min(self.low[file]);
                    self.low.insert(file, low);
                }
            }
            if self.low[file] == self.index[file] {
                let mut component = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    component.push(name(member));
                    if member == file {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort();
                    self.circles.push(component);
                }
            }
        }
    }
    let mut search = Search {
        graph: &house.imports,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        circles: Vec::new(),
    };
    for file in house.imports.keys() {
        if !search.index.contains_key(file) {
            search.visit(file);
        }
    }
    assert!(search.circles.is_empty(), "import circles: {:#?}", search.circles);
}

/// The check itself: a path written in a test fixture is seen, so the tests above can fail.
#[test]
fn the_reader_sees_grouped_nested_and_relative_imports() {
    let file = src().join("users").join("handlers.rs");
    let code = "use crate::{policy, db::types::Email};\nuse super::rules; // crate::startup\nlet x = crate::state::AppState;";
    let paths = referenced_paths(&file, &code_of(code));
    let expected: Vec<Vec<String>> =
        [vec!["policy"], vec!["db", "types", "Email"], vec!["state", "AppState"], vec!["users", "rules"]]
            .iter()
            .map(|p| p.iter().map(|s| (*s).to_owned()).collect())
            .collect();
    for path in &expected {
        assert!(paths.contains(path), "{path:?} in {paths:?}");
    }
    assert!(!paths.iter().any(|p| p.first().is_some_and(|s| s == "startup")), "comments are not imports");
}
