//! `jiefen chat` fed a script on standard input: the README's first
//! command, as a newcomer runs it.

use std::io::Write;
use std::process::{Command, Stdio};

fn chat(args: &[&str], script: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jiefen"))
        .arg("chat")
        .args(args)
        .env_remove("JIEFEN_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run jiefen chat");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write the script");
    let out = child.wait_with_output().expect("jiefen chat ends");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The part of the transcript after the line `from` (which must be there).
fn after<'a>(transcript: &'a str, from: &str) -> &'a str {
    let i = transcript
        .find(from)
        .unwrap_or_else(|| panic!("{from:?} not in the transcript:\n{transcript}"));
    &transcript[i..]
}

const FILING: &str = "/start\n1\n5\n老板拖欠我们三个月工资 <1.2万元> & 不接电话。\n某某建筑公司\n3\n/location 38.605 100.80\n/contact +86 138-1234-5678\n2\n8\n";

#[test]
fn a_scripted_filing_and_mediation_in_chinese_reach_both_sides() {
    let script = format!(
        "{FILING}/as mediator\n1\n1\n2\n3\n1\n/mycases\n1\n4\n双方同意：公司在12月10日前分两次付清工资。\n2\n/as resident\n5\n"
    );
    let (ok, out, err) = chat(&[], &script);
    assert!(ok, "exit status; stderr: {err}\n{out}");

    // The resident is told the case number and where it went.
    let filed = after(&out, "已经提交，谢谢您！");
    assert!(filed.contains("案件编号：620722-2026-000001"), "{filed}");
    assert!(
        filed.contains("负责的调解委员会：民乐县劳动人事争议人民调解委员会"),
        "{filed}"
    );
    assert!(filed.contains("电话：0936-4412300"), "{filed}");

    // The mediator of that committee gets the case with the resident's
    // words intact, the phone the resident shared, and why it came to them.
    let assigned = after(
        &out,
        "新案件 620722-2026-000001（民乐县劳动人事争议人民调解委员会）",
    );
    assert!(
        assigned.contains("老板拖欠我们三个月工资 <1.2万元> & 不接电话。"),
        "{assigned}"
    );
    assert!(assigned.contains("当事人电话：13812345678"), "{assigned}");
    assert!(
        assigned.contains("劳动争议、欠薪 → 劳动人事争议调委会"),
        "{assigned}"
    );

    // Back as the resident: accepted, scheduled, resolved, asked to rate.
    let resident = after(&out, "—— 现在是：居民 ——");
    assert!(
        resident.contains("已由民乐县劳动人事争议人民调解委员会的调解员"),
        "{resident}"
    );
    assert!(
        resident.contains("时间：2026-") && resident.contains(" 14:30"),
        "{resident}"
    );
    assert!(resident.contains("调解成功！"), "{resident}");
    assert!(
        resident.contains("协议内容：双方同意：公司在12月10日前分两次付清工资。"),
        "{resident}"
    );
    assert!(resident.contains("请给这次调解服务打个分"), "{resident}");
    assert!(
        resident.trim_end().ends_with("谢谢您的评价！"),
        "{resident}"
    );
}

#[test]
fn an_english_filing_shows_the_case_number_and_committee() {
    let (ok, out, err) = chat(&["--lang", "en"], FILING);
    assert!(ok, "stderr: {err}");
    let filed = after(&out, "Case number");
    assert!(filed.contains("620722-2026-000001"), "{filed}");
    assert!(
        filed.contains("民乐县劳动人事争议人民调解委员会"),
        "{filed}"
    );
}

#[test]
fn an_unknown_command_for_the_terminal_gets_a_hint_and_the_chat_goes_on() {
    let (ok, out, _) = chat(&[], "/location north\n/start\n");
    assert!(ok);
    assert!(
        out.contains("没看懂这条命令。例如：/location 38.60 100.80"),
        "{out}"
    );
    assert!(out.contains("个人信息说明"), "{out}");
}
