"""Live training: POST /api/train streams a small run as NDJSON; GET /api/train/status."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse

from app.explorer.training_results import TrainingStatus, TrainRequest
from app.explorer.training_stream import (
    TrainingLimitError,
    TrainingSlots,
    ndjson_stream,
    plan_training,
)

from .deps import ERRORS, settings_of

router = APIRouter(tags=["training"])

RETRY_AFTER_SECONDS = 10


def slots_of(request: Request) -> TrainingSlots:
    state = request.app.state
    if getattr(state, "trainings", None) is None:
        state.trainings = TrainingSlots(settings_of(request).max_trainings)
    return state.trainings


@router.post(
    "/api/train",
    summary="Train a zoo network live, streamed as NDJSON",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/x-ndjson": {}},
            "description": "one JSON event a line: start, ready, report (step 0 and every "
            "report_every steps), done (or error). Closing the response stops the training.",
        },
        400: ERRORS[400],
        413: ERRORS[413],
        422: {**ERRORS[422], "description": "a value over a limit (the message names it)"},
        429: {**ERRORS[422], "description": "the server's live trainings are all busy"},
    },
)
async def train_live(body: TrainRequest, request: Request):
    """Trains a fresh network (`arch` from the zoo, its recipe unless changed here) on MNIST,
    or on the shipped 1000-digit sample when the server has no data directory (the first event
    says which). Reports every `report_every` steps: each step's loss, accuracy on held-out
    slices, the first-layer filters, a probe digit's first-layer maps and, with
    `inspect_filter`, one filter's update in full (old W, dW, the optimiser's state, new W).
    The `ready` event gives the `conv-explorer train` command that repeats the losses."""
    try:
        plan = plan_training(body, settings_of(request))
    except TrainingLimitError as err:
        raise HTTPException(422, str(err)) from None
    slots = slots_of(request)
    if not slots.try_acquire():
        return JSONResponse(
            {"detail": f"{slots.limit} trainings are running, the most this server runs at once; "
                       f"try again in {RETRY_AFTER_SECONDS} s"},
            status_code=429,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )  # fmt: skip
    return StreamingResponse(
        ndjson_stream(plan, slots.release),
        media_type="application/x-ndjson",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/api/train/status", response_model=TrainingStatus, summary="Live trainings now")
def train_status(request: Request):
    """How many live trainings run now, and how the last one ended (a stopped run tells the
    step it stopped at)."""
    return slots_of(request).status(settings_of(request))
