"""The hosted fine-tuning client against a local stand-in for the OpenAI fine-tuning API:
a job followed to its end, a failed or cancelled one, a flaky connection, a wrong key."""

from __future__ import annotations

import json

import pytest

from services.trainer.hosted.chat_file import chat_jsonl_ok
from services.trainer.hosted.client import HostedFinetune
from services.trainer.hosted.events import HostedProgress
from services.trainer.hosted.provider import HostedCancelled, HostedError
from tests.support.fake_finetune_api import KEY, fake_finetune_api
from tests.support.scripted_llm import free_port

EXAMPLE = {
    "messages": [
        {"role": "system", "content": "You answer from the manual."},
        {"role": "user", "content": "How hot may the boiler run?"},
        {"role": "assistant", "content": "At most 80 degrees [1]."},
    ]
}
TRAIN = b"".join(json.dumps(EXAMPLE).encode() + b"\n" for _ in range(12))


def client(url: str, key: str | None = KEY, **kw) -> HostedFinetune:
    kw = {"poll_s": 0.01, "backoff_s": 0.01, **kw}
    return HostedFinetune(url, key, **kw)


async def never() -> bool:
    return False


class Recorder:
    def __init__(self) -> None:
        self.seen: list[HostedProgress] = []

    async def __call__(self, progress: HostedProgress) -> None:
        self.seen.append(progress)

    def steps(self) -> list[int]:
        """The steps of the progress reports that moved the step on."""
        steps: list[int] = []
        for p in self.seen:
            if p.step and (not steps or p.step != steps[-1]):
                steps.append(p.step)
        return steps


PLAIN_JOB = {
    "validation_file": None,
    "n_epochs": 1,
    "batch_size": 1,
    "learning_rate_multiplier": None,
    "seed": 0,
    "suffix": None,
}


async def create(
    hosted: HostedFinetune, training_file: str, model: str = "gpt-4o-mini", **settings
) -> str:
    """A job on `training_file`; the settings not given are PLAIN_JOB's."""
    return await hosted.create_job(
        model=model, training_file=training_file, **(PLAIN_JOB | settings)
    )


async def start(
    hosted: HostedFinetune, train: bytes = TRAIN, check: bool = True, **settings
) -> str:
    """Upload `train` and create a job of 3 epochs on it as a run would."""
    training = await hosted.upload(train, "run-1-train.jsonl", check=check)
    job = {"n_epochs": 3, "batch_size": 4, "seed": 7, "suffix": "simtune-1"}
    return await create(hosted, training, **job, **settings)


async def test_a_job_is_followed_to_its_model_with_progress_in_step_order():
    async with fake_finetune_api(steps=5) as api, client(api.url) as hosted:
        validation = await hosted.upload(TRAIN[: len(TRAIN) // 3], "run-1-val.jsonl")
        job_id = await start(hosted, validation_file=validation)
        progress = Recorder()
        outcome = await hosted.follow(job_id, progress, never)

    assert outcome.model == "ft:gpt-4o-mini:simtune:simtune-1:1"
    assert outcome.trained_tokens == len(TRAIN) // 4
    assert progress.steps() == [1, 2, 3, 4, 5]
    losses = [p.loss for p in progress.seen if p.loss is not None]
    assert losses == sorted(losses, reverse=True) and progress.seen[-1].eval_loss is not None
    assert all(p.total_steps == 5 for p in progress.seen if p.step)
    assert progress.seen[0].stage.startswith("Created fine-tuning job")
    assert progress.seen[-1].stage == "The job has successfully completed"
    assert all(len(p.stage) <= 100 for p in progress.seen)
    (training,) = [u for u in api.uploads.values() if u.filename == "run-1-train.jsonl"]
    assert training.content == TRAIN and training.purpose == "fine-tune"
    assert api.created == [
        {
            "model": "gpt-4o-mini",
            "training_file": training.id,
            "validation_file": validation,
            "hyperparameters": {"n_epochs": 3, "batch_size": 4},
            "seed": 7,
            "suffix": "simtune-1",
        }
    ]


async def test_many_events_between_polls_are_all_reported_once_in_order():
    """250 steps pass before the first poll: three pages of newest-first events."""
    async with fake_finetune_api(steps=250) as api, client(api.url) as hosted:
        job_id = await start(hosted, learning_rate_multiplier=0.5)
        for _ in range(252):
            api.advance(job_id)
        progress = Recorder()
        await hosted.follow(job_id, progress, never)
    assert progress.steps() == list(range(1, 251))
    assert len([p for p in progress.seen if p.stage.startswith("Step ")]) == 250
    assert api.created[0]["hyperparameters"]["learning_rate_multiplier"] == 0.5


async def test_a_server_listing_events_oldest_first_is_followed_in_order_too():
    async with (
        fake_finetune_api(steps=6, events_order="oldest_first") as api,
        client(api.url) as hosted,
    ):
        progress = Recorder()
        await hosted.follow(await start(hosted), progress, never)
    assert progress.steps() == [1, 2, 3, 4, 5, 6]


async def test_a_failed_job_raises_the_providers_reason():
    async with fake_finetune_api(fail_job=True) as api, client(api.url) as hosted:
        job_id = await start(hosted)
        with pytest.raises(HostedError) as caught:
            await hosted.follow(job_id, Recorder(), never)
    assert "Training file has invalid format" in str(caught.value)
    assert job_id in str(caught.value) and not caught.value.retryable


async def test_a_file_the_provider_finds_malformed_fails_the_job_naming_the_line():
    bad = TRAIN + b'{"prompt": "old style", "completion": "no"}\n'
    async with fake_finetune_api() as api, client(api.url) as hosted:
        job_id = await start(hosted, bad, check=False)
        with pytest.raises(HostedError, match="example 13") as caught:
            await hosted.follow(job_id, Recorder(), never)
    assert not caught.value.retryable


async def test_a_job_the_provider_cancels_is_an_error():
    async with fake_finetune_api(pause=True) as api, client(api.url) as hosted:
        job_id = await start(hosted)
        api.cancel_job(job_id)
        with pytest.raises(HostedError, match="cancelled at the provider"):
            await hosted.follow(job_id, Recorder(), never)


@pytest.mark.parametrize("drop_status", [None, 503, 429])
async def test_dropped_connections_while_following_are_waited_out(drop_status, capsys, caplog):
    async with (
        fake_finetune_api(steps=4, drop_status=drop_status) as api,
        client(api.url) as hosted,
    ):
        job_id = await start(hosted)
        progress = Recorder()

        async def flaky(p: HostedProgress) -> None:
            await progress(p)
            if p.step == 2 and api.drop_connections == 0 and not hasattr(flaky, "done"):
                flaky.done = True
                api.drop_connections = 4

        outcome = await hosted.follow(job_id, flaky, never)
    assert outcome.model.startswith("ft:gpt-4o-mini:")
    assert progress.steps() == [1, 2, 3, 4]
    assert api.drop_connections == 0
    printed = capsys.readouterr()
    assert KEY not in printed.out + printed.err + caplog.text


async def test_following_gives_up_once_the_service_stays_away_too_long():
    async with (
        fake_finetune_api() as api,
        client(api.url, give_up_after_s=0.3) as hosted,
    ):
        job_id = await start(hosted)
        api.drop_connections = 10_000
        with pytest.raises(HostedError, match="could not be reached") as caught:
            await hosted.follow(job_id, Recorder(), never)
    assert caught.value.retryable and "127.0.0.1" in str(caught.value)


async def test_an_upload_to_a_service_that_is_not_there_is_retryable():
    url = f"http://127.0.0.1:{free_port()}/v1"
    async with client(url, attempts=3) as hosted:
        with pytest.raises(HostedError) as caught:
            await hosted.upload(TRAIN, "train.jsonl")
    assert caught.value.retryable
    assert str(caught.value).startswith(f"The fine-tuning service at {url[7:-3]} could not be")


async def test_a_job_created_on_a_try_whose_answer_was_lost_is_not_created_twice():
    async with fake_finetune_api() as api, client(api.url) as hosted:
        training = await hosted.upload(TRAIN, "train.jsonl")
        api.drop_responses = 1  # the job is created, its answer lost
        job_id = await create(hosted, training)
    assert list(api.jobs) == [job_id] and len(api.created) == 1


async def test_a_job_is_found_again_by_the_key_it_was_created_under():
    async with fake_finetune_api() as api, client(api.url) as hosted:
        training = await hosted.upload(TRAIN, "train.jsonl")
        other = await create(hosted, training, job_key="simtune-other")
        api.lose_created = 1  # the job is created, its answer lost: the retry finds it
        job_id = await create(hosted, training, job_key="simtune-run-1")
        for _ in range(120):  # more than a page of jobs created since
            await create(hosted, training)
        found = await hosted.find_job("simtune-run-1")
        assert await hosted.find_job("simtune-run-2") is None
    assert found["id"] == job_id != other
    assert found["metadata"] == {"simtune_job": "simtune-run-1"}
    assert (
        sum((j["metadata"] or {}).get("simtune_job") == "simtune-run-1" for j in api.jobs.values())
        == 1
    )


async def test_cancelling_while_following_cancels_the_providers_job():
    async with fake_finetune_api(steps=50) as api, client(api.url) as hosted:
        job_id = await start(hosted)
        progress = Recorder()

        async def cancelled() -> bool:
            return any(p.step >= 3 for p in progress.seen)

        with pytest.raises(HostedCancelled) as caught:
            await hosted.follow(job_id, progress, cancelled)
    assert api.cancels == [job_id] and caught.value.stopped
    assert api.job(job_id)["status"] == "cancelled"
    assert max(progress.steps()) < 50


async def test_a_wrong_key_is_refused_plainly_without_showing_it():
    secret = "sk-wrong-secret-1234"
    async with fake_finetune_api() as api, client(api.url, secret) as hosted:
        with pytest.raises(HostedError) as caught:
            await hosted.upload(TRAIN, "train.jsonl")
    message = str(caught.value)
    assert "refused the API key" in message and not caught.value.retryable
    assert secret not in message and "1234" not in message
    assert api.requests == [("POST", "/files")]  # refused at once, not retried


async def test_a_missing_key_is_asked_for():
    async with fake_finetune_api() as api, client(api.url, None) as hosted:
        with pytest.raises(HostedError, match="asks for an API key"):
            await create(hosted, "file-x", model="m")


async def test_a_refused_request_says_what_the_provider_said():
    async with fake_finetune_api() as api, client(api.url) as hosted:
        with pytest.raises(HostedError, match="invalid training_file: file-nope") as caught:
            await create(hosted, "file-nope")
        with pytest.raises(HostedError, match="No such fine-tuning job"):
            await hosted.follow("ftjob-nope", Recorder(), never)
    assert not caught.value.retryable and len(api.created) == 1


@pytest.mark.parametrize(
    ("jsonl", "words"),
    [
        (TRAIN + b"not json\n", "Line 13 .* not valid JSON"),
        (b'{"prompt": "a", "completion": "b"}\n', 'Line 1 .* no "messages" list'),
        (TRAIN + b"\n" + b'{"messages": []}\n', "Line 14 .* empty"),
        (
            json.dumps({"messages": [{"role": "robot", "content": "x"}]}).encode(),
            "Line 1 .* message 1 has no role",
        ),
        (
            json.dumps({"messages": [{"role": "user", "content": "x"}]}).encode(),
            "Line 1 .* no assistant message",
        ),
        (b"\n\n", "no examples"),
    ],
)
def test_a_malformed_chat_file_is_caught_naming_the_line(jsonl, words):
    with pytest.raises(HostedError, match=words) as caught:
        chat_jsonl_ok(jsonl)
    assert not caught.value.retryable
    assert HostedFinetune.chat_jsonl_ok is chat_jsonl_ok


async def test_a_good_chat_file_passes():
    """The check lets a good file through (a system turn is optional, blank lines are
    skipped), and the provider, which checks files on its own, trains on what it let
    through."""
    good = TRAIN + json.dumps({"messages": EXAMPLE["messages"][1:]}).encode() + b"\n"
    assert chat_jsonl_ok(good) is None
    assert chat_jsonl_ok(b"\n" + good + b"\n\n") is None
    async with fake_finetune_api(steps=2) as api, client(api.url) as hosted:
        outcome = await hosted.follow(await start(hosted, good), Recorder(), never)
    assert outcome.model.startswith("ft:gpt-4o-mini:")
    assert [u.content for u in api.uploads.values()] == [good]
