// The chat page: sends the question to the JSON API and writes the answer as it streams in.
// Events: queued {position}, sources {sources}, token {text}, done {the whole answer, with
// its claims}, error {error, detail}. Everything from the model is inserted as text, never
// as HTML.
// Once done, the answer's card (score, rating, edit) is loaded with htmx.
(function () {
  "use strict";

  var BUSY = "The model is busy with other questions right now; try again in a few seconds.";

  function friendly(status, body) {
    var detail = (body && body.detail) || "";
    if (status === 503 && body && body.error === "busy") return BUSY;
    if (status === 502) return "The model server did not answer: " + detail;
    return detail || "Something went wrong (HTTP " + status + "); please try again.";
  }

  function documentHref(citation) {
    return "/api/documents/" + encodeURIComponent(citation.document_id) + "/file#page=" + citation.page;
  }

  function citationLink(citation, text) {
    var link = document.createElement("a");
    link.className = "cite";
    link.href = documentHref(citation);
    link.target = "_blank";
    link.rel = "noopener";
    link.title = citation.filename + ", page " + citation.page;
    link.textContent = text;
    return link;
  }

  // The answer with each [n] that names a citation turned into a link to its page.
  function renderAnswer(box, answer, citations) {
    var byN = {};
    citations.forEach(function (c) { byN[c.n] = c; });
    box.textContent = "";
    var marker = /\[(\d{1,2})\]/g;
    var start = 0;
    var match;
    while ((match = marker.exec(answer)) !== null) {
      var citation = byN[Number(match[1])];
      if (!citation) continue;
      box.append(answer.slice(start, match.index), citationLink(citation, match[0]));
      start = marker.lastIndex;
    }
    box.append(answer.slice(start));
  }

  var NOTES = { unsupported: "not found in the sources", unchecked: "not checked against the sources" };

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function appendLinks(node, numbers, byN) {
    numbers.forEach(function (n) {
      if (byN[n]) node.append(" ", citationLink(byN[n], "[" + n + "]"));
    });
  }

  // The answer as its claims: quotes from the documents first, then the model's sentences,
  // each linked to the pages that support it or set apart with a note (as answer_text.html).
  function renderClaims(box, claims, citations) {
    var byN = {};
    citations.forEach(function (c) { byN[c.n] = c; });
    box.textContent = "";
    box.classList.add("claimed");
    var quotes = claims.filter(function (c) { return c.origin === "documents"; });
    if (quotes.length) {
      box.append(element("p", "claims-heading", "From your documents"));
      quotes.forEach(function (q) {
        var quote = element("blockquote", "quote", q.text);
        appendLinks(quote, q.citations, byN);
        box.append(quote);
      });
      box.append(element("p", "claims-heading", "The model adds, in its own words"));
    }
    var said = element("p", "said");
    box.append(said);
    claims.filter(function (c) { return c.origin !== "documents"; }).forEach(function (c) {
      if (c.text.startsWith("```")) {
        var pre = element("pre");
        pre.append(element("code", "", c.text));
        box.append(pre);
        said = element("p", "said");
        box.append(said);
        return;
      }
      var span = element("span", "claim " + c.support, c.text);
      appendLinks(span, c.citations, byN);
      if (NOTES[c.support]) span.append(" ", element("span", "claim-note", "(" + NOTES[c.support] + ")"));
      said.append(span, " ");
    });
  }

  function renderSources(list, sources) {
    list.textContent = "";
    sources.forEach(function (source) {
      var item = document.createElement("li");
      item.value = source.n;
      var link = citationLink(source, source.filename);
      link.removeAttribute("class");
      item.append(link, ", page " + source.page);
      list.append(item);
    });
    list.hidden = sources.length === 0;
  }

  // Parses a text/event-stream body, calling onEvent(name, data) for each event.
  async function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer = (buffer + decoder.decode(chunk.value, { stream: true })).replace(/\r\n/g, "\n");
      var end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        var block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        var name = "message";
        var data = [];
        block.split("\n").forEach(function (line) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        });
        if (data.length) onEvent(name, JSON.parse(data.join("\n")));
      }
    }
  }

  function Exchange(template, question, isDraft) {
    var node = template.content.firstElementChild.cloneNode(true);
    this.node = node;
    this.status = node.querySelector(".answer-status");
    this.text = node.querySelector(".answer-text");
    this.sources = node.querySelector(".sources");
    this.meta = node.querySelector(".answer-meta");
    this.cardSlot = node.querySelector(".answer-card-slot");
    node.querySelector(".who").textContent = isDraft ? "You asked for" : "You asked";
    node.querySelector(".question-text").textContent = question;
    this.say(isDraft ? "Writing the draft…" : "Thinking…");
  }

  Exchange.prototype.say = function (text) {
    this.status.textContent = text;
    this.status.hidden = !text;
  };

  Exchange.prototype.fail = function (text) {
    this.ended = true;
    this.say("");
    var alert = document.createElement("div");
    alert.className = "alert error";
    alert.setAttribute("role", "alert");
    alert.textContent = text;
    this.node.querySelector(".answer").append(alert);
  };

  Exchange.prototype.on = function (name, data) {
    if (name === "queued") {
      this.say(data.position > 0 ? "Waiting: " + data.position + " ahead of you…" : "Starting…");
    } else if (name === "sources") {
      this.say("Read " + data.sources.length + " passage" + (data.sources.length === 1 ? "" : "s") + "; writing…");
      renderSources(this.sources, data.sources);
    } else if (name === "token") {
      if (this.status.textContent) this.say("");
      this.text.append(data.text);
    } else if (name === "done") {
      this.finish(data);
    } else if (name === "error") {
      this.fail("The answer stopped: " + data.detail);
    }
  };

  Exchange.prototype.finish = function (answer) {
    this.ended = true;
    this.say("");
    if (answer.claims && answer.claims.length) renderClaims(this.text, answer.claims, answer.citations);
    else renderAnswer(this.text, answer.answer, answer.citations);
    renderSources(this.sources, answer.citations);
    var facts = [answer.model, (answer.latency_ms / 1000).toFixed(1) + " s"];
    if (answer.removed_citations) facts.push(answer.removed_citations + " made-up source" + (answer.removed_citations > 1 ? "s" : "") + " removed");
    this.meta.textContent = facts.join(" · ");
    this.meta.hidden = false;
    this.node.dataset.answerId = answer.answer_id;
    var url = "/ui/answers/" + encodeURIComponent(answer.answer_id) + "/card?after_seq=" + (answer.seq || 0);
    if (window.htmx) htmx.ajax("GET", url, { target: this.cardSlot, swap: "innerHTML" });
  };

  async function ask(form, exchange, isDraft) {
    var expertId = form.dataset.expertId;
    var question = form.elements.question.value.trim();
    var path = isDraft ? "/drafts" : "/ask";
    var body = isDraft ? { prompt: question } : { question: question, mode: form.elements.mode.value || null };
    var response = await fetch("/api/experts/" + encodeURIComponent(expertId) + path, {
      method: "POST",
      headers: { Accept: "text/event-stream", "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      var error = null;
      try { error = await response.json(); } catch (e) { error = null; }
      exchange.fail(friendly(response.status, error));
      return;
    }
    await readEvents(response, exchange.on.bind(exchange));
    if (!exchange.ended) exchange.fail("The answer stopped before it was finished; please try again.");
  }

  function setup() {
    var form = document.getElementById("ask-form");
    if (!form) return;
    var template = document.getElementById("exchange-template");
    var conversation = document.getElementById("conversation");
    var buttons = form.querySelectorAll("button[type=submit]");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var question = form.elements.question.value.trim();
      if (!question) return;
      var isDraft = event.submitter && event.submitter.value === "draft";
      var exchange = new Exchange(template, question, isDraft);
      conversation.prepend(exchange.node);
      buttons.forEach(function (b) { b.disabled = true; });
      ask(form, exchange, isDraft)
        .catch(function () { exchange.fail("The connection to Simtune was lost; please try again."); })
        .finally(function () { buttons.forEach(function (b) { b.disabled = false; }); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
