// The console's little JavaScript: live task progress, live timelines. Same-origin only.
"use strict";

function pollTask(box) {
  const url = box.dataset.poll;
  const tick = async () => {
    const answer = await fetch(url, { credentials: "same-origin" });
    if (!answer.ok) return;
    const state = await answer.json();
    document.getElementById("progress").value = state.progress;
    document.getElementById("percent").textContent = state.progress;
    document.getElementById("status").textContent = state.status;
    if (state.status === "FINISHED") {
      window.location.reload();  // the outputs, or the error, are on the page now
      return;
    }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
}

function refreshTimeline(box) {
  const tick = async () => {
    const answer = await fetch(box.dataset.refresh, { credentials: "same-origin" });
    if (answer.ok) {
      box.innerHTML = await answer.text();
      const svg = box.querySelector("svg");
      if (svg && svg.dataset.status === "FINISHED") {
        window.location.reload();
        return;
      }
    }
    setTimeout(tick, 2000);
  };
  setTimeout(tick, 2000);
}

document.addEventListener("DOMContentLoaded", () => {
  const task = document.getElementById("task-state");
  if (task && task.dataset.poll) pollTask(task);
  const timeline = document.getElementById("timeline-box");
  if (timeline && timeline.dataset.refresh) refreshTimeline(timeline);
});
