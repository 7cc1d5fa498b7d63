// Keyboard shortcuts for the moderation queue, listed on the page itself.
// Progressive enhancement only: without this file the queue works the same
// with the tick boxes, the action menu and Go.
"use strict";
(function () {
    const table = document.getElementById("result_list");
    const form = document.getElementById("changelist-form");
    if (!table || !form) {
        return;
    }
    const rows = Array.from(table.querySelectorAll("tbody tr"));
    let current = -1;

    function focusRow(index) {
        if (!rows.length) {
            return;
        }
        current = Math.max(0, Math.min(rows.length - 1, index));
        rows.forEach((row, i) => row.classList.toggle("queue-current", i === current));
        const box = rows[current].querySelector("input.action-select");
        if (box) {
            box.focus();
        }
    }

    function ticked() {
        return table.querySelectorAll("input.action-select:checked").length;
    }

    function run(action) {
        if (current >= 0 && !ticked()) {
            const box = rows[current].querySelector("input.action-select");
            if (box) {
                box.click();
            }
        }
        const select = form.querySelector("select[name=action]");
        if (!select || !ticked() || !select.querySelector(`option[value="${action}"]`)) {
            return;
        }
        select.value = action;
        const go = form.querySelector("button[name=index], .actions button[type=submit]");
        if (go) {
            go.click();
        } else {
            form.submit();
        }
    }

    document.addEventListener("keydown", function (event) {
        const target = event.target;
        const typing = target.matches("input[type=text], input[type=search], textarea, select");
        if (typing || event.altKey || event.ctrlKey || event.metaKey) {
            return;
        }
        switch (event.key) {
        case "j":
            focusRow(current + 1);
            break;
        case "k":
            focusRow(current - 1);
            break;
        case "x":
            if (current >= 0) {
                rows[current].querySelector("input.action-select")?.click();
            }
            break;
        case "a":
            run("approve");
            break;
        case "v":
            run("verify_approve_and_mark_notable");
            break;
        case "r":
            run("reject");
            break;
        case "o":
            if (current >= 0) {
                rows[current].querySelector("th a, td a")?.click();
            }
            break;
        default:
            return;
        }
        event.preventDefault();
    });
})();
