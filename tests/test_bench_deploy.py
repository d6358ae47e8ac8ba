"""`make bench`'s deploy figures read the deploy's own progress lines and terraform's logs."""

from __future__ import annotations

from scripts.bench_deploy import StackTime, StepFigures, parse_progress, report, slowest_resource
from scripts.deploy_local import progress_line


def test_the_bench_reads_the_progress_lines_the_runner_prints() -> None:
    output = "\n".join([
        "synth: cdktf.out (prod) is newer than the sources, reused",
        progress_line("00-bootstrap", 0.0, 61.2, "ok") + " [1/3]",
        progress_line("10-network", 61.2, 70.4, "ok") + " [2/3]",
        progress_line("20-storage", 70.4, 75.0, "FAILED"),
        "applied 2 stacks in 70.4 s",
    ])
    assert parse_progress(output) == [StackTime("00-bootstrap", 0.0, 61.2), StackTime("10-network", 61.2, 70.4)]


def test_slowest_resource_reads_terraforms_completion_lines() -> None:
    log = "\n".join([
        "$ terraform apply -auto-approve -input=false -no-color",
        "aws_s3_bucket.state: Creation complete after 1s [id=state]",
        "aws_lb.alb: Creation complete after 1m0s [id=arn:aws:elasticloadbalancing:...]",
        "aws_s3_bucket_lifecycle_configuration.state: Creation complete after 55s [id=state]",
        "aws_lb.alb: Still creating... [50s elapsed]",
    ])
    assert slowest_resource(log) == ("aws_lb.alb", 60)
    assert slowest_resource("No changes.") is None


def test_report_states_each_goal_and_whether_it_is_met() -> None:
    deploy = StepFigures("deploy", 100.0, [StackTime("a", 0.0, 40.0), StackTime("b", 10.0, 70.0)])
    plan = StepFigures("plan", 10.0, [StackTime("a", 0.0, 4.0), StackTime("b", 0.0, 5.0)])
    destroy = StepFigures("destroy", 20.0, [StackTime("b", 0.0, 10.0), StackTime("a", 10.0, 15.0)])
    lines = report({"deploy": deploy, "plan": plan, "destroy": destroy}, {"a": ("aws_lb.alb", 30), "b": None})
    text = "\n".join(lines)
    assert "make deploy-local end to end: 100.0 s (goal < 120 s: met)" in text
    # 70 s from the first start to the last end, against b's 60 s.
    assert "apply of all stacks / longest single stack: 1.17 (goal <= 1.5: met)" in text
    assert "| a | +0.0 → +40.0 | 40.0 | aws_lb.alb 30 | 5.0 |" in lines
    assert "| b | +10.0 → +70.0 | 60.0 | - | 10.0 |" in lines
    slow = StepFigures("deploy", 250.0, [StackTime("a", 0.0, 60.0), StackTime("b", 60.0, 120.0)])
    assert "(goal <= 1.5: NOT met)" in "\n".join(report({"deploy": slow, "plan": plan, "destroy": destroy}, {}))
