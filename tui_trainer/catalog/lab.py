"""The mistake lab: the tutorials' common mistakes, made on purpose so that a learner sees them
happen. Each says what goes wrong, what to watch in the charts, and the fix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    """One mistake: its ``lab.NAME`` switch, a one-line summary (the field's help), what goes
    wrong, what to watch, the fix, and the loss it needs (None: any)."""

    name: str
    summary: str
    wrong: str
    watch: str
    fix: str
    needs_loss: str | None = None


MISTAKES: dict[str, Mistake] = {m.name: m for m in (
    Mistake("skip_zero_grad", "never call optimizer.zero_grad(): gradients pile up across steps",
            "backward() adds to .grad; without zero_grad each step uses the sum of every gradient so "
            "far, so steps grow and overshoot (tutorial 004's first common mistake)",
            "the loss falls fast, then oscillates or climbs; the gradient norm keeps growing",
            "call optimizer.zero_grad() before each backward()"),
    Mistake("softmax_before_loss", "apply softmax to the outputs before CrossEntropyLoss",
            "CrossEntropyLoss applies log_softmax itself; a softmax first squeezes the logits into "
            "[0, 1], so the loss cannot fall below about 0.55 and gradients shrink",
            "the loss stalls well above zero; accuracy may still rise, slowly",
            "give CrossEntropyLoss the raw logits (or use log_softmax with NLLLoss)",
            needs_loss="cross-entropy"),
    Mistake("sigmoid_before_bce_logits", "apply sigmoid to the output before BCEWithLogitsLoss",
            "BCEWithLogitsLoss applies the sigmoid itself; a second one keeps the predicted "
            "probability between 0.5 and 0.73, so the loss cannot get near zero",
            "the loss stalls high; accuracy can still look fine",
            "give BCEWithLogitsLoss the raw output (or use sigmoid with BCELoss)",
            needs_loss="bce-logits"),
    Mistake("no_eval_mode", "validate without model.eval() (dropout stays on)",
            "model.eval() turns dropout (and batch norm) to inference behaviour; without it the "
            "validation pass drops units at random (tutorial 003's reason for eval())",
            "with dropout, the validation loss is higher and noisier than it should be",
            "call model.eval() (and torch.no_grad()) for validation, model.train() after"),
    Mistake("no_shuffle", "take the batches in the same order every epoch",
            "without shuffling every epoch repeats the same batches in the same order, so the "
            "updates follow the same path and ordered data biases the last steps of each epoch",
            "a saw-tooth pattern in the step loss that repeats every epoch",
            "shuffle each epoch (DataLoader(shuffle=True), or a new randperm per epoch)"),
    Mistake("wrong_loss", "allow a loss that does not fit the task",
            "a loss must match what the model outputs and what the targets are (regression: MSE; "
            "classes: cross-entropy); a misfit one trains the wrong thing or fails on the shapes",
            "the loss may fall while accuracy does not rise; or the run is refused with the shapes",
            "choose a loss that fits the task (tui-trainer list shows which)"),
)}


def on_purpose(mistakes: list[str], sep: str = ", ") -> str:
    """What a run making lab mistakes on purpose says of them (its status, its History entry,
    ``export-plot``'s title): ``lab mistake on purpose: skip_zero_grad``; "" for none."""
    return f"lab mistake on purpose: {sep.join(mistakes)}" if mistakes else ""
