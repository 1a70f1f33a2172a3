/*
 * Accessibility fixes for third-party widgets whose markup the Python side cannot reach (issue 25).
 *
 * Dash loads every script in assets/ on every page. One MutationObserver re-applies these after each render:
 *  - dcc.Dropdown (Dash 4): a read-only <input aria-hidden="true" tabindex="0"> stands in front of the real trigger
 *    button (a Safari workaround); it is taken out of the tab order and the labelled button goes in instead.
 *  - dbc.Tabs (2.0): every tab gets id "...-tab-null", aria-controls pointing at no element, aria-selected="false"
 *    and tabindex="-1" (unreachable by keyboard); each tab is tied to its own panel, marked selected when active and
 *    put in the tab order.
 *  - dcc.Slider: the thumb (role="slider") and its number box get the name of the <label for> of the slider.
 *  - dcc.Upload: the hidden file input gets the drop zone's first line as its name.
 *  - html.Div(role="button") (KPI tiles): Enter and Space click it, like a button; Enter on a focused cell of a
 *    grid inside .grid-open-on-enter clicks it (a row click there opens the SKU).
 *  - Plotly charts: the chart's SVG becomes role="img" with an aria-label that states what it shows and the numbers
 *    (every point of short series; count, range and extremes of long ones).
 */
(function () {
    "use strict";

    var MAX_POINTS_LISTED = 12;

    function labelFor(id) {
        if (!id) {
            return "";
        }
        var labels = document.querySelectorAll("label[for]");
        for (var i = 0; i < labels.length; i++) {
            if (labels[i].getAttribute("for") === id) {
                return labels[i].textContent.trim();
            }
        }
        return "";
    }

    function fixDropdowns(root) {
        root.querySelectorAll(".dash-dropdown-focus-target").forEach(function (dummy) {
            if (dummy.getAttribute("tabindex") !== "-1") {
                dummy.setAttribute("tabindex", "-1");
            }
            var trigger = dummy.nextElementSibling;
            if (trigger && trigger.tagName === "BUTTON" && !trigger.disabled && trigger.getAttribute("tabindex") !== "0") {
                trigger.setAttribute("tabindex", "0");
            }
        });
    }

    function fixTabs(root) {
        root.querySelectorAll('[role="tablist"]').forEach(function (list, listIndex) {
            var tabs = list.querySelectorAll('[role="tab"]');
            var container = list.parentElement;
            var content = container ? container.querySelector(":scope > .tab-content") : null;
            var panes = content ? content.querySelectorAll(":scope > .tab-pane") : [];
            var base = (list.id || "tabs-" + listIndex) + "-tab-";
            tabs.forEach(function (tab, i) {
                var tabId = base + i;
                if (tab.id !== tabId) {
                    tab.id = tabId;
                }
                var pane = panes[i];
                if (pane && pane.id) {
                    tab.setAttribute("aria-controls", pane.id);
                    pane.setAttribute("aria-labelledby", tabId);
                } else {
                    tab.removeAttribute("aria-controls");
                }
                var selected = tab.classList.contains("active") ? "true" : "false";
                if (tab.getAttribute("aria-selected") !== selected) {
                    tab.setAttribute("aria-selected", selected);
                }
                if (tab.getAttribute("tabindex") !== "0" && !tab.classList.contains("disabled")) {
                    tab.setAttribute("tabindex", "0");
                }
            });
        });
    }

    function fixSliders(root) {
        root.querySelectorAll(".dash-slider-container").forEach(function (slider) {
            var name = labelFor(slider.id) || slider.getAttribute("data-label") || "Value";
            slider.querySelectorAll('[role="slider"], input').forEach(function (control) {
                if (control.getAttribute("aria-label") !== name) {
                    control.setAttribute("aria-label", name);
                }
            });
        });
    }

    function fixUploads(root) {
        root.querySelectorAll('input[type="file"]:not([aria-label])').forEach(function (input) {
            var zone = input.parentElement;
            var text = zone ? zone.textContent.trim() : "";
            var first = zone ? zone.querySelector("div, span, p") : null;
            input.setAttribute("aria-label", (first ? first.textContent.trim() : text) || "Choose a file");
        });
    }

    function number(value) {
        if (typeof value === "number") {
            return Math.abs(value) >= 100 ? Math.round(value).toLocaleString("en") : String(Math.round(value * 100) / 100);
        }
        return String(value);
    }

    function label(value) {
        return typeof value === "number" ? number(value) : String(value).replace(/T00:00:00$/, "");
    }

    function axisTitle(axis) {
        var title = axis && axis.title;
        var text = title && (typeof title === "string" ? title : title.text);
        return text ? text.replace(/<[^>]*>/g, "") : "";
    }

    function axisValues(trace, horizontal) {
        var values = horizontal ? trace.x : trace.y;
        var labels = horizontal ? trace.y : trace.x;
        return {values: values || [], labels: labels || []};
    }

    function traceSummary(trace, index) {
        var horizontal = trace.orientation === "h";
        var name = trace.name || "Series " + (index + 1);
        if (trace.type === "pie") {
            var parts = (trace.labels || []).map(function (text, i) {
                return String(text) + " " + number((trace.values || [])[i]);
            });
            return name + ": " + parts.join(", ");
        }
        var data = axisValues(trace, horizontal);
        var values = Array.prototype.slice.call(data.values);
        var labels = Array.prototype.slice.call(data.labels);
        var count = values.length;
        if (!count) {
            return name + ": no data";
        }
        if (count <= MAX_POINTS_LISTED) {
            return name + ": " + values.map(function (v, i) {
                return (labels.length ? label(labels[i]) + " " : "") + number(v);
            }).join(", ");
        }
        var numeric = values.filter(function (v) { return typeof v === "number" && isFinite(v); });
        if (!numeric.length) {
            return name + ": " + count + " points";
        }
        var lo = Math.min.apply(null, numeric);
        var hi = Math.max.apply(null, numeric);
        var first = labels.length ? " from " + label(labels[0]) + " to " + label(labels[labels.length - 1]) : "";
        return name + ": " + count + " points" + first + ", lowest " + number(lo) + ", highest " + number(hi) +
            ", last " + number(values[values.length - 1]);
    }

    function chartTitle(gd) {
        var layoutTitle = gd.layout && gd.layout.title;
        var text = layoutTitle && (typeof layoutTitle === "string" ? layoutTitle : layoutTitle.text);
        if (text) {
            return text.replace(/<[^>]*>/g, "");
        }
        var card = gd.closest(".card-body, .card, section");
        var heading = card ? card.querySelector(".text-uppercase, .fw-semibold, h2, h3, h4, h5") : null;
        return heading ? heading.textContent.trim() : "Chart";
    }

    function describeChart(gd) {
        var svg = gd.querySelector("svg.main-svg");
        if (!svg || !gd.data) {
            return;
        }
        var shown = gd.data.filter(function (trace) { return trace.visible !== false && trace.visible !== "legendonly"; });
        var axes = [axisTitle(gd.layout && gd.layout.xaxis), axisTitle(gd.layout && gd.layout.yaxis)];
        var axesText = axes[0] && axes[1] ? " Horizontal axis " + axes[0] + ", vertical axis " + axes[1] + "." : "";
        var summary = chartTitle(gd) + "." + axesText + " " +
            (shown.length ? shown.map(traceSummary).join("; ") : "No data") + ".";
        if (svg.getAttribute("aria-label") !== summary) {
            svg.setAttribute("role", "img");
            svg.setAttribute("aria-label", summary);
        }
        gd.querySelectorAll("svg.main-svg").forEach(function (layer) {
            if (layer !== svg) {
                layer.setAttribute("aria-hidden", "true");
            }
        });
    }

    function fixCharts(root) {
        root.querySelectorAll(".js-plotly-plot").forEach(function (gd) {
            if (!gd.dataset.a11yBound && typeof gd.on === "function") {
                gd.dataset.a11yBound = "1";
                gd.on("plotly_afterplot", function () { describeChart(gd); });
            }
            describeChart(gd);
        });
    }

    function apply() {
        var root = document;
        fixDropdowns(root);
        fixTabs(root);
        fixSliders(root);
        fixUploads(root);
        fixCharts(root);
    }

    document.addEventListener("keydown", function (event) {
        var target = event.target;
        // Enter on a focused cell of a grid whose row click opens something (the Watchtower's SKUs) clicks it
        if (event.key === "Enter" && target && target.classList && target.classList.contains("ag-cell") &&
            target.closest(".grid-open-on-enter")) {
            target.click();
            return;
        }
        if ((event.key === "Enter" || event.key === " ") && target && target.getAttribute &&
            target.getAttribute("role") === "button" && target.tagName !== "BUTTON" && target.tagName !== "A") {
            event.preventDefault();
            target.click();
        }
    });

    var pending = false;
    function schedule() {
        if (!pending) {
            pending = true;
            window.requestAnimationFrame(function () {
                pending = false;
                apply();
            });
        }
    }

    function start() {
        apply();
        new MutationObserver(schedule).observe(document.body, {
            childList: true,
            subtree: true,
            attributes: true,
            attributeFilter: ["class", "tabindex", "aria-selected"],
        });
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
})();
