//! The `dupin` command as a supervisor runs it: the real binary in a child process with its own
//! database, plan and environment, judged by what it prints and how it exits.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use awc::http::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::helpers::{
    answers_for, catalog_survey, copy_of_the_plan, edit_file, phone_at, repo_path,
};

const DUPIN: &str = env!("CARGO_BIN_EXE_dupin");
/// A command that has not finished after this long is hung.
const PATIENCE: Duration = Duration::from_secs(30);
/// How long a server may take to refuse a broken plan.
const REFUSAL_PATIENCE: Duration = Duration::from_secs(10);
/// The variables `dupin` reads; none may leak in from the shell that runs the tests.
const DUPIN_VARIABLES: [&str; 9] = [
    "DATABASE_URL",
    "DUPIN_SESSION_KEY",
    "DUPIN_ADMIN_PASSWORD",
    "DUPIN_SURVEYS",
    "DUPIN_BASE_URL",
    "DUPIN_BIND",
    "DUPIN_WORKERS",
    "DUPIN_LOG",
    "DUPIN_LOG_FORMAT",
];
const PUBLIC_ADDRESS: &str = "https://dupin.example.cn";
const CROCKFORD: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// What one run of the command showed the person at the terminal.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn succeeded(&self) -> &Self {
        assert_eq!(self.code, Some(0), "the command failed: {self:#?}");
        self
    }

    pub(crate) fn failed(&self) -> &Self {
        assert_eq!(
            self.code,
            Some(1),
            "the command should fail with 1: {self:#?}"
        );
        self
    }

    pub(crate) fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    pub(crate) fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }
}

/// A child process that is killed when the test is done with it, passed or failed.
pub(crate) struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // Already exited is fine: there is nothing left to stop.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn read_all(stream: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut stream) = stream {
            let _ = stream.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Waits for `command` to exit within `patience`; a command still running then is killed and the
/// test fails.
fn run_within(command: &mut Command, patience: Duration) -> Run {
    let mut child = KillOnDrop(
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dupin starts"),
    );
    let stdout = read_all(child.0.stdout.take());
    let stderr = read_all(child.0.stderr.take());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("the child's status") {
            break Some(status);
        }
        if started.elapsed() > patience {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(child);
    let run = Run {
        code: status.and_then(|status| status.code()),
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    };
    assert!(
        status.is_some(),
        "{command:?} was still running after {patience:?} and was killed: {run:#?}"
    );
    run
}

/// A terminal in a fresh folder: its own database, a plan, and the environment `dupin` reads.
pub(crate) struct Terminal {
    dir: tempfile::TempDir,
    /// Where commands run; relative paths below are read from here.
    cwd: PathBuf,
    pub(crate) database_url: String,
    surveys: PathBuf,
    pub(crate) base_url: Option<String>,
    bind: Option<String>,
}

impl Terminal {
    pub(crate) fn new() -> Terminal {
        let dir = tempfile::tempdir().expect("temp dir");
        Terminal {
            cwd: dir.path().to_owned(),
            database_url: format!("sqlite://{}/dupin.sqlite3", dir.path().display()),
            surveys: repo_path("surveys"),
            base_url: Some(PUBLIC_ADDRESS.to_owned()),
            bind: None,
            dir,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(DUPIN);
        command.args(args).current_dir(&self.cwd);
        for variable in DUPIN_VARIABLES {
            command.env_remove(variable);
        }
        command
            .env("DATABASE_URL", &self.database_url)
            .env("DUPIN_SURVEYS", &self.surveys)
            .env("NO_COLOR", "1");
        if let Some(base_url) = &self.base_url {
            command.env("DUPIN_BASE_URL", base_url);
        }
        if let Some(bind) = &self.bind {
            command.env("DUPIN_BIND", bind);
        }
        command
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        run_within(&mut self.command(args), PATIENCE)
    }

    /// Runs `args` on a thread of its own, so that an async test's runtime keeps serving its
    /// phones meanwhile.
    pub(crate) fn run_in_background(&self, args: &[&str]) -> std::thread::JoinHandle<Run> {
        let mut command = self.command(args);
        std::thread::spawn(move || run_within(&mut command, PATIENCE))
    }

    /// Runs `args` with a patience of its own (a command that builds a whole county).
    pub(crate) fn run_patiently(&self, args: &[&str], patience: Duration) -> Run {
        run_within(&mut self.command(args), patience)
    }

    /// Runs `args` with its standard output going into `file` (a binary export); the run's
    /// `stdout` is then empty.
    pub(crate) fn run_into_file(&self, args: &[&str], env: &[(&str, &str)], file: &Path) -> Run {
        let out = std::fs::File::create(file).expect("the output file");
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        let mut child = KillOnDrop(
            command
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(Stdio::piped())
                .spawn()
                .expect("dupin starts"),
        );
        let stderr = read_all(child.0.stderr.take());
        let status = child.0.wait().expect("the child's status");
        drop(child);
        Run {
            code: status.code(),
            stdout: String::new(),
            stderr: stderr.join().expect("stderr"),
        }
    }

    /// The folder the terminal runs in; the test's files live here.
    pub(crate) fn folder(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `dupin` with `args` and these environment variables set as well.
    pub(crate) fn run_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = self.command(args);
        command.envs(env.iter().copied());
        run_within(&mut command, PATIENCE)
    }

    pub(crate) fn import_county_schools(&self) {
        let file = repo_path("tests/fixtures/schools/county.csv");
        self.run(&["schools", "import", path_text(&file)])
            .succeeded();
    }

    fn school_lines(&self) -> Vec<String> {
        let run = self.run(&["schools", "list"]);
        run.succeeded();
        run.stdout_lines().into_iter().map(str::to_owned).collect()
    }

    fn campaign_lines(&self) -> Vec<String> {
        let run = self.run(&["campaign", "list"]);
        run.succeeded();
        run.stdout_lines().into_iter().map(str::to_owned).collect()
    }

    /// Has `dupin` read a copy of the plan in this terminal's folder, and returns the copy's
    /// folder, for the test to edit.
    pub(crate) fn copy_the_plan(&mut self) -> PathBuf {
        let copy = copy_of_the_plan(self.dir.path());
        self.surveys = copy.clone();
        copy
    }

    /// Starts `dupin` with `args` and waits for it to say where it serves.
    pub(crate) fn start_server(&self, args: &[&str]) -> Server {
        self.start_server_with_env(args, &[])
    }

    /// Starts `dupin` with `args` and these environment variables set as well.
    pub(crate) fn start_server_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = KillOnDrop(
            self.command(args)
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("dupin starts"),
        );
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(pipe) = child.0.stderr.take() {
            let stderr = stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Ok(mut text) = stderr.lock() {
                        text.push_str(&line);
                        text.push('\n');
                    }
                }
            });
        }
        let (lines, stdout) = mpsc::channel();
        if let Some(pipe) = child.0.stdout.take() {
            // Keeps reading after the test stops listening, so the server never blocks on a
            // full pipe.
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let _ = lines.send(line);
                }
            });
        }
        let marker = "is serving on http://127.0.0.1:";
        let deadline = Instant::now() + PATIENCE;
        let first_line = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match stdout.recv_timeout(left) {
                Ok(line) if line.contains(marker) => break line,
                Ok(_) => continue,
                Err(error) => {
                    drop(child);
                    panic!(
                        "dupin did not say where it serves ({error}); stderr:\n{}",
                        stderr.lock().map(|text| text.clone()).unwrap_or_default()
                    );
                }
            }
        };
        let port: u16 = first_line
            .split(marker)
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("no port in {first_line:?}"));
        Server {
            child,
            address: format!("http://127.0.0.1:{port}"),
            first_line,
            stderr,
        }
    }
}

/// A running `dupin` server, killed when dropped.
pub(crate) struct Server {
    child: KillOnDrop,
    pub(crate) address: String,
    first_line: String,
    stderr: Arc<Mutex<String>>,
}

impl Server {
    /// What the server has written to its standard error so far (its log), for a failing
    /// test's message.
    pub(crate) fn log(&self) -> String {
        self.stderr
            .lock()
            .map(|text| text.clone())
            .unwrap_or_default()
    }

    pub(crate) fn stop(self) {
        drop(self.child);
    }
}

fn path_text(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// Breaks a copy of the plan in `dir/surveys` in five ways and returns what `dupin check` must
/// say about it, in order. Commands that read it run in `dir` with `DUPIN_SURVEYS=surveys`.
fn break_the_plan(dir: &Path) -> Vec<String> {
    let surveys = copy_of_the_plan(dir);
    let parents = surveys.join("parents.toml");
    // A scored single choice with one option left without a score.
    edit_file(
        &parents,
        "help = \"建档立卡贫困户就是村里登记在册、有扶贫手册的贫困户。\"\n",
        "help = \"建档立卡贫困户就是村里登记在册、有扶贫手册的贫困户。\"\nscored = true\n",
    );
    edit_file(
        &parents,
        "    { code = \"yes\", label = \"是\" },\n    { code = \"no\", label = \"不是\" },\n",
        "    { code = \"yes\", label = \"是\", score = 0 },\n    { code = \"no\", label = \"不是\", score = 100 },\n",
    );
    // A follow-up that depends on a question asked later.
    edit_file(
        &parents,
        "（如免学费、助学金、生活补助）\"\nshow_if = { question = \"poor_household\", equals = \"yes\" }",
        "（如免学费、助学金、生活补助）\"\nshow_if = { question = \"boarding\", equals = \"yes\" }",
    );
    // The same id twice.
    edit_file(
        &parents,
        "id = \"canteen_hygiene\"",
        "id = \"meals_quality\"",
    );
    // A misspelt scale.
    edit_file(
        &parents,
        "id = \"teacher_care\"\nkind = \"scale\"\nscale = \"satisfaction\"",
        "id = \"teacher_care\"\nkind = \"scale\"\nscale = \"satisfation\"",
    );
    // A misspelt field name in another file: that file cannot be read further, the others still are.
    let students = surveys.join("students.toml");
    let text = std::fs::read_to_string(&students).expect("students.toml");
    let line = text
        .lines()
        .position(|line| line == "scored = true")
        .expect("a scored question")
        + 1;
    let text: Vec<&str> = text.lines().collect();
    let mut broken = text.clone();
    broken[line - 1] = "socred = true";
    std::fs::write(&students, broken.join("\n") + "\n").expect("write students.toml");

    vec![
        "surveys/parents.toml: question poor_household: option \"unsure\" has no score".to_owned(),
        "surveys/parents.toml: question funding_received: show_if points at question boarding, \
         which comes later: it must point at an earlier question"
            .to_owned(),
        "surveys/parents.toml: question meals_quality: this question id appears twice in the survey"
            .to_owned(),
        "surveys/parents.toml: question teacher_care: unknown scale \"satisfation\" \
         (known: agreement, frequency, satisfaction)"
            .to_owned(),
        format!(
            "surveys/students.toml: line {line}: unknown field `socred`, expected one of `id`, \
             `kind`, `text`, `help`, `required`, `show_if`, `scored`, `options`, `min`, `max`, \
             `scale`, `rows`, `decimal`, `unit`, `max_length`, `yes_score`, `no_score`, \
             `min_label`, `max_label`"
        ),
    ]
}

fn terminal_with_a_broken_plan() -> (Terminal, Vec<String>) {
    let mut terminal = Terminal::new();
    let expected = break_the_plan(terminal.dir.path());
    terminal.surveys = PathBuf::from("surveys");
    (terminal, expected)
}

/// The lines of `text` that are about the plan's files.
fn plan_messages(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|line| line.starts_with("surveys/"))
        .collect()
}

#[test]
fn check_lists_every_survey_of_the_plan_and_exits_zero() {
    let mut terminal = Terminal::new();
    terminal.cwd = repo_path("");
    terminal.surveys = PathBuf::from("surveys");

    let run = terminal.run(&["check"]);

    run.succeeded();
    let mut expected: Vec<String> = [
        ("parents", "家长", "家长满意度测评"),
        ("school", "学校", "学校自评表"),
        ("students", "学生", "学生问卷"),
        ("teachers", "教师", "教师问卷"),
    ]
    .iter()
    .map(|(id, audience, title)| {
        format!(
            "ok  surveys/{id}.toml  {id} ({audience}, {} questions) — {title}",
            catalog_survey(id).question_count()
        )
    })
    .collect();
    expected.push("ok  surveys/indicators.toml  37 indicators".to_owned());
    expected.push("ok  surveys/rating.toml  4 grade bands".to_owned());
    expected.push("ok  surveys/targets.toml  3 county targets".to_owned());
    expected.push(
        "ok  surveys/visits/key_inspection.toml  key_inspection (重点督查, 13 items) — 重点督查现场核查表"
            .to_owned(),
    );
    expected.push(
        "ok  surveys/visits/random_visit.toml  random_visit (随机走访, 6 items) — 随机走访记录表"
            .to_owned(),
    );
    expected.push("4 surveys, no errors.".to_owned());
    assert_eq!(run.stdout_lines(), expected);
}

#[test]
fn check_on_a_broken_plan_lists_every_error_with_its_file_and_question() {
    let (terminal, expected) = terminal_with_a_broken_plan();

    let run = terminal.run(&["check"]);

    run.failed();
    assert_eq!(run.stdout, "", "nothing is reported as ok");
    assert_eq!(plan_messages(&run.stderr), expected);
    assert_eq!(run.stderr_lines().last(), Some(&"5 errors found."));
}

#[test]
fn the_server_refuses_to_start_on_a_broken_plan_and_says_why() {
    let (terminal, expected) = terminal_with_a_broken_plan();

    for args in [
        &["serve", "--bind", "127.0.0.1:0"][..],
        &["--bind", "127.0.0.1:0"][..],
    ] {
        let run = run_within(&mut terminal.command(args), REFUSAL_PATIENCE);

        run.failed();
        assert!(!run.stdout.contains("serving"), "{args:?}: {run:#?}");
        assert!(
            run.stderr_lines()
                .contains(&"dupin cannot start: the survey plan has errors:"),
            "{args:?}: {run:#?}"
        );
        assert_eq!(plan_messages(&run.stderr), expected, "{args:?}");
    }
}

#[test]
fn schools_import_reads_the_county_list_and_a_second_import_updates_it() {
    let terminal = Terminal::new();
    let file = repo_path("tests/fixtures/schools/county.csv");

    let first = terminal.run(&["schools", "import", path_text(&file)]);
    first.succeeded();
    assert_eq!(
        first.stdout,
        "导入完成：新增 30 所，更新 0 所（共 30 所）。\n"
    );
    let schools = terminal.school_lines();
    assert_eq!(schools.len(), 30);
    assert!(
        schools.contains(
            &"4521230007\t石门镇中心小学\t石门镇\t小学\t中心校:是\t重点村:否\t在校生:740\t专任教师:42"
                .to_owned()
        ),
        "{schools:#?}"
    );

    let second = terminal.run(&["schools", "import", path_text(&file)]);
    second.succeeded();
    assert_eq!(
        second.stdout,
        "导入完成：新增 0 所，更新 30 所（共 30 所）。\n"
    );
    assert_eq!(terminal.school_lines(), schools);
}

#[test]
fn schools_import_reads_a_gbk_file_saved_by_a_chinese_excel() {
    let terminal = Terminal::new();
    let file = repo_path("tests/fixtures/schools/county-gbk.csv");

    let run = terminal.run(&["schools", "import", path_text(&file)]);

    run.succeeded();
    assert_eq!(run.stdout, "导入完成：新增 5 所，更新 0 所（共 5 所）。\n");
    let schools = terminal.school_lines();
    assert_eq!(schools.len(), 5);
    assert!(
        schools.contains(
            &"4521230012\t白沙乡中心学校\t白沙乡\t九年一贯制\t中心校:是\t重点村:否\t在校生:860\t专任教师:64"
                .to_owned()
        ),
        "{schools:#?}"
    );
}

#[test]
fn schools_import_of_a_bad_file_lists_every_bad_line_and_imports_nothing() {
    let terminal = Terminal::new();
    let file = repo_path("tests/fixtures/schools/bad.csv");
    let expected = [
        format!("{}: 发现 4 处错误，没有导入任何学校：", file.display()),
        "第 4 行（学校代码 4521230008）：类型\"初级中学\"无法识别，应为 幼儿园、小学、初中、九年一贯制、高中、中职、教学点 之一".to_owned(),
        "第 5 行（学校代码 4521230016）：在校生数\"约500\"不是整数，应填写 0 或正整数".to_owned(),
        "第 6 行（学校代码 4521230007）：学校代码与第 3 行重复".to_owned(),
        "第 7 行（学校代码 4521230021）：学校名称为空".to_owned(),
    ];

    // Into an empty database: nothing.
    let run = terminal.run(&["schools", "import", path_text(&file)]);
    run.failed();
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr_lines(), expected);
    assert_eq!(terminal.school_lines(), Vec::<String>::new());

    // Over the county's list: the list is as it was.
    terminal.import_county_schools();
    let before = terminal.school_lines();
    let run = terminal.run(&["schools", "import", path_text(&file)]);
    run.failed();
    assert_eq!(run.stderr_lines(), expected);
    assert_eq!(terminal.school_lines(), before);
    assert_eq!(before.len(), 30);
}

#[test]
fn campaign_create_prints_the_new_campaign_and_links_prints_one_line_per_school() {
    let terminal = Terminal::new();
    terminal.import_county_schools();

    let created = terminal.run(&[
        "campaign",
        "create",
        "--survey",
        "parents",
        "--name",
        "2026 家长满意度测评",
    ]);
    created.succeeded();
    assert_eq!(
        created.stdout,
        "Campaign 1 created: \"2026 家长满意度测评\", survey parents (家长满意度测评), 30 school links.\n\
         Print the links: dupin campaign links 1\n"
    );

    let links = terminal.run(&["campaign", "links", "1"]);
    links.succeeded();
    let schools: Vec<(String, String)> = terminal
        .school_lines()
        .iter()
        .map(|line| {
            let mut cells = line.split('\t');
            (
                cells.next().unwrap_or_default().to_owned(),
                cells.next().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let mut expected_schools = schools.clone();
    expected_schools.sort();
    let mut seen_schools = Vec::new();
    let mut tokens = Vec::new();
    for line in links.stdout_lines() {
        let cells: Vec<&str> = line.split('\t').collect();
        assert_eq!(cells.len(), 3, "code, name, URL: {line:?}");
        seen_schools.push((cells[0].to_owned(), cells[1].to_owned()));
        let token = cells[2]
            .strip_prefix("https://dupin.example.cn/s/")
            .unwrap_or_else(|| panic!("not a public link: {line:?}"));
        assert_eq!(token.len(), 20, "{line:?}");
        assert!(token.chars().all(|c| CROCKFORD.contains(c)), "{line:?}");
        tokens.push(token.to_owned());
    }
    assert_eq!(
        seen_schools, expected_schools,
        "one line per school, by code"
    );
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 30, "every school has its own token");
    assert_eq!(terminal.campaign_lines(), ["1\t2026 家长满意度测评\topen"]);
}

#[test]
fn a_campaign_for_two_school_codes_has_exactly_two_links() {
    let terminal = Terminal::new();
    terminal.import_county_schools();

    let created = terminal.run(&[
        "campaign",
        "create",
        "--survey",
        "teachers",
        "--name",
        "两所学校的教师问卷",
        "--schools",
        "4521230007,4521230001",
    ]);
    created.succeeded();
    assert!(
        created.stdout.starts_with(
            "Campaign 1 created: \"两所学校的教师问卷\", survey teachers (教师问卷), 2 school links.\n"
        ),
        "{created:#?}"
    );

    let links = terminal.run(&["campaign", "links", "1"]);
    links.succeeded();
    let codes: Vec<&str> = links
        .stdout_lines()
        .iter()
        .map(|line| line.split('\t').next().unwrap_or_default())
        .collect();
    assert_eq!(codes, ["4521230001", "4521230007"]);
}

#[test]
fn links_carry_the_public_address_without_a_doubled_slash() {
    let mut terminal = Terminal::new();
    terminal.base_url = Some("https://dupin.example.cn/".to_owned());
    terminal.import_county_schools();
    terminal
        .run(&["campaign", "create", "--survey", "parents", "--name", "x"])
        .succeeded();

    let links = terminal.run(&["campaign", "links", "1"]);

    links.succeeded();
    for line in links.stdout_lines() {
        assert!(line.contains("\thttps://dupin.example.cn/s/"), "{line:?}");
    }
}

#[test]
fn links_without_a_public_address_use_the_bind_address_as_the_server_does() {
    let mut terminal = Terminal::new();
    terminal.base_url = None;
    terminal.bind = Some("127.0.0.1:9000".to_owned());
    terminal.import_county_schools();
    terminal
        .run(&["campaign", "create", "--survey", "parents", "--name", "x"])
        .succeeded();

    let links = terminal.run(&["campaign", "links", "1"]);

    links.succeeded();
    for line in links.stdout_lines() {
        assert!(line.contains("\thttp://127.0.0.1:9000/s/"), "{line:?}");
    }
}

#[test]
fn campaign_create_with_an_unknown_survey_fails_and_creates_nothing() {
    let terminal = Terminal::new();
    terminal.import_county_schools();

    let run = terminal.run(&["campaign", "create", "--survey", "parent", "--name", "x"]);

    run.failed();
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr_lines(),
        [format!(
            "error: no survey \"parent\" in {} (known: parents, school, students, teachers)",
            repo_path("surveys").display()
        )]
    );
    assert_eq!(terminal.campaign_lines(), Vec::<String>::new());
}

#[test]
fn campaign_create_with_an_unknown_school_code_names_it_and_creates_nothing() {
    let terminal = Terminal::new();
    terminal.import_county_schools();

    let run = terminal.run(&[
        "campaign",
        "create",
        "--survey",
        "parents",
        "--name",
        "x",
        "--schools",
        "4521230001,4521239999",
    ]);

    run.failed();
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr_lines()
            .contains(&"error: unknown school codes: 4521239999"),
        "{run:#?}"
    );
    assert_eq!(terminal.campaign_lines(), Vec::<String>::new());
}

#[test]
fn campaign_create_refuses_to_close_before_it_opens() {
    let terminal = Terminal::new();
    terminal.import_county_schools();

    let run = terminal.run(&[
        "campaign",
        "create",
        "--survey",
        "parents",
        "--name",
        "x",
        "--opens",
        "2026-12-05",
        "--closes",
        "2026-12-01 08:00",
    ]);

    run.failed();
    assert!(
        run.stderr_lines().contains(
            &"error: the campaign closes (2026-12-01 08:00) before it opens (2026-12-05 00:00)"
        ),
        "{run:#?}"
    );
    assert_eq!(terminal.campaign_lines(), Vec::<String>::new());
}

#[test]
fn campaign_create_refuses_a_time_it_cannot_read_and_says_how_to_write_one() {
    let terminal = Terminal::new();
    terminal.import_county_schools();

    let run = terminal.run(&[
        "campaign",
        "create",
        "--survey",
        "parents",
        "--name",
        "x",
        "--closes",
        "下周一",
    ]);

    run.failed();
    assert_eq!(
        run.stderr_lines(),
        ["error: --closes \"下周一\" is not a time: write 2026-12-01 or \"2026-12-01 08:00\""]
    );
    assert_eq!(terminal.campaign_lines(), Vec::<String>::new());
}

#[test]
fn campaign_create_before_any_school_is_imported_says_to_import_them_first() {
    let terminal = Terminal::new();

    let run = terminal.run(&["campaign", "create", "--survey", "parents", "--name", "x"]);

    run.failed();
    assert!(
        run.stderr_lines().contains(
            &"error: no schools to put the campaign to: import schools first (dupin schools import FILE.csv)"
        ),
        "{run:#?}"
    );
    assert_eq!(terminal.campaign_lines(), Vec::<String>::new());
}

#[test]
fn campaign_links_of_an_unknown_campaign_fails_clearly() {
    let terminal = Terminal::new();
    terminal.import_county_schools();

    let run = terminal.run(&["campaign", "links", "999"]);

    run.failed();
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr_lines(), ["error: no campaign 999"]);
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .expect("query")
    .expect("a row")
    .try_get_by_index::<i64>(0)
    .expect("a count")
}

#[actix_web::test]
async fn a_supervisor_and_a_parent_go_through_the_whole_flow_over_real_processes() {
    let mut terminal = Terminal::new();
    terminal.base_url = None;
    let server = terminal.start_server(&["--bind", "127.0.0.1:0", "--workers", "2"]);
    assert!(
        server.first_line.ends_with(&format!(
            "is serving on {0} (public address {0})",
            server.address
        )),
        "{:?}",
        server.first_line
    );
    terminal.base_url = Some(server.address.clone());

    // The supervisor, in another terminal.
    terminal.import_county_schools();
    let created = terminal.run(&[
        "campaign",
        "create",
        "--survey",
        "parents",
        "--name",
        "2026 家长满意度测评",
    ]);
    created.succeeded();
    let campaign: i32 = created
        .stdout
        .strip_prefix("Campaign ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no campaign id in {created:#?}"));
    let links = terminal.run(&["campaign", "links", &campaign.to_string()]);
    links.succeeded();
    let first_link = links.stdout_lines()[0].to_owned();
    let cells: Vec<&str> = first_link.split('\t').collect();
    let (code, school_name, url) = (cells[0], cells[1], cells[2]);
    let path = url
        .strip_prefix(&server.address)
        .unwrap_or_else(|| panic!("{url} is not on {}", server.address));
    let token = path.strip_prefix("/s/").expect("a /s/ link");

    // A parent opens the printed link on a phone and answers.
    let mut phone = phone_at(&server.address);
    let form = phone.get(path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(
        form.body.contains(school_name),
        "the school's name is shown"
    );
    assert!(form.body.contains("家长满意度测评"));
    let mut fields = vec![
        ("_key".to_owned(), form.hidden("_key").expect("a key")),
        ("_t".to_owned(), form.hidden("_t").expect("a time")),
    ];
    fields.extend(answers_for(&catalog_survey("parents")));
    let submitted = phone.post_form(path, &fields).await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.body
    );
    let thanks_path = format!("/s/{token}/thanks");
    assert_eq!(submitted.location.as_deref(), Some(thanks_path.as_str()));
    let thanks = phone.get(&thanks_path).await;
    assert_eq!(thanks.status, StatusCode::OK);
    assert!(thanks.body.contains("提交成功"), "{}", thanks.body);

    // Stopped hard, the answer it acknowledged is on disk.
    server.stop();
    let db = dupin::db::connect(&terminal.database_url)
        .await
        .expect("the database opens after the server is gone");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM response").await, 1);
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT COUNT(*) FROM response r JOIN school s ON s.id = r.school_id \
                 WHERE r.campaign_id = {campaign} AND s.code = '{code}'"
            )
        )
        .await,
        1
    );
}

#[test]
fn check_and_the_server_name_the_file_and_item_of_a_broken_checklist_or_target() {
    let mut terminal = Terminal::new();
    let surveys = copy_of_the_plan(terminal.dir.path());
    edit_file(
        &surveys.join("visits").join("key_inspection.toml"),
        "indicator = \"canteen_standard\"",
        "indicator = \"canteen_standrd\"",
    );
    edit_file(
        &surveys.join("targets.toml"),
        "count = { yes = \"preschool_three_year\" }",
        "count = { yes = \"preschool_3\" }",
    );
    terminal.surveys = PathBuf::from("surveys");
    let expected = [
        "surveys/targets.toml: target key_village_preschool: survey school has no question \
         preschool_3",
        "surveys/visits/key_inspection.toml: item canteen_standard: unknown indicator \
         \"canteen_standrd\": it is not in indicators.toml",
    ];

    let run = terminal.run(&["check"]);
    run.failed();
    assert_eq!(plan_messages(&run.stderr), expected);

    let run = run_within(
        &mut terminal.command(&["serve", "--bind", "127.0.0.1:0"]),
        REFUSAL_PATIENCE,
    );
    run.failed();
    assert!(!run.stdout.contains("serving"), "{run:#?}");
    assert_eq!(plan_messages(&run.stderr), expected);
}
