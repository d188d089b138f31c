// The questionnaire page a patient (or a child's caregiver) opens from a link (spec §10): the
// date of birth first, then one question per screen with progress and a way back, then the
// answers go to the practice. It talks only to /api/patient/<token>; everything it shows is
// text from the server or the strings below (set with textContent, never as HTML).
// At /kiosk it is a clinic tablet a team member handed over: it talks to /api/kiosk (its
// session cookie names the request), and after the answers it returns to the locked tablet.
"use strict";

const STRINGS = {
  en: {
    title: "Check-in",
    dobTitle: "First, confirm your date of birth",
    dobTitleCaregiver: "First, confirm the child's date of birth",
    dobHelp: "This keeps your answers private. Then you will answer a few short questions.",
    month: "Month", day: "Day", year: "Year",
    months: ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"],
    dobIncomplete: "Enter the month, day and year.",
    continue: "Continue", back: "Back", next: "Next", send: "Send answers", sending: "Sending…",
    progress: (n, total) => `Question ${n} of ${total}`,
    choose: "Choose an answer to go on.",
    doneTitle: "Thank you",
    crisisTitle: "Get help now",
    call988: "Call 988", text988: "Text 988", call911: "Call 911",
    later: "Something went wrong. Please try again later.",
    done: "Done",
    handBack: "Please hand the tablet back to the front desk.",
  },
  es: {
    title: "Control",
    dobTitle: "Primero, confirme su fecha de nacimiento",
    dobTitleCaregiver: "Primero, confirme la fecha de nacimiento del niño o de la niña",
    dobHelp: "Así sus respuestas se mantienen privadas. Luego responderá unas preguntas breves.",
    month: "Mes", day: "Día", year: "Año",
    months: ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"],
    dobIncomplete: "Escriba el mes, el día y el año.",
    continue: "Continuar", back: "Atrás", next: "Siguiente", send: "Enviar respuestas", sending: "Enviando…",
    progress: (n, total) => `Pregunta ${n} de ${total}`,
    choose: "Elija una respuesta para continuar.",
    doneTitle: "Gracias",
    crisisTitle: "Busque ayuda ahora",
    call988: "Llamar al 988", text988: "Texto al 988", call911: "Llamar al 911",
    later: "Algo salió mal. Inténtelo de nuevo más tarde.",
    done: "Listo",
    handBack: "Por favor, devuelva la tableta a la recepción.",
  },
};

const kiosk = location.pathname === "/kiosk";
const token = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
const api = kiosk ? "/api/kiosk" : `/api/patient/${encodeURIComponent(token)}`;
const app = document.getElementById("app");
let t = STRINGS.en;
let questionnaire = null;
let dob = "";
// Every question of every form, in order: { form, index, text, instructions, options }.
let questions = [];
const answers = {};
let at = 0;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key === "on") for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/// Replaces the screen and moves focus to its heading, so a screen reader reads it from the top.
function screen(title, ...children) {
  const heading = el("h1", { id: "heading", tabindex: "-1", text: title });
  app.replaceChildren(heading, ...children);
  document.title = `${title} · ${questionnaire ? questionnaire.practice : t.title}`;
  heading.focus();
}

/// The one page for a link that cannot be used, in both languages: it says nothing about why.
function unusable() {
  if (kiosk) { locked(); return; }
  document.documentElement.lang = "en";
  screen("This link cannot be used",
    el("p", { text: "Please contact your practice." }),
    el("p", { lang: "es", text: "Este enlace no se puede usar. Comuníquese con su consultorio." }));
}

/// The tablet between patients: nothing about who used it last, and the way back for the team.
function locked() {
  questionnaire = null;
  dob = "";
  for (const form of Object.keys(answers)) delete answers[form];
  document.documentElement.lang = "en";
  document.getElementById("practice").textContent = "";
  screen("Check-in tablet",
    el("p", { id: "locked", text: "This tablet is ready for the next check-in. A team member signs in to start it." }),
    el("p", { lang: "es", text: "Esta tableta está lista para el próximo control. Un miembro del equipo inicia sesión para comenzarlo." }),
    el("div", { class: "actions" }, el("a", { class: "primary button", id: "team-sign-in", href: "/", text: "Team sign-in" })));
}

async function send(path, body) {
  const response = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: kiosk ? "same-origin" : "omit",
    cache: "no-store",
  });
  const json = await response.json().catch(() => ({}));
  return { status: response.status, json };
}

function errorLine(id) {
  return el("p", { id, class: "error", role: "alert" });
}

function showDob() {
  const caregiver = questionnaire.respondent === "caregiver";
  const month = el("select", { id: "dob-month", name: "month", autocomplete: caregiver ? "off" : "bday-month" },
    el("option", { value: "", text: "—" }),
    ...t.months.map((name, i) => el("option", { value: String(i + 1).padStart(2, "0"), text: name })));
  const day = el("input", { id: "dob-day", name: "day", inputmode: "numeric", maxlength: "2", autocomplete: caregiver ? "off" : "bday-day" });
  const year = el("input", { id: "dob-year", name: "year", inputmode: "numeric", maxlength: "4", autocomplete: caregiver ? "off" : "bday-year" });
  const error = errorLine("dob-error");
  const button = el("button", { type: "submit", class: "primary", id: "dob-continue", text: t.continue });
  const form = el("form", { novalidate: "", on: { submit: async (event) => {
    event.preventDefault();
    const [m, d, y] = [month.value, day.value.trim(), year.value.trim()];
    if (!m || !/^\d{1,2}$/.test(d) || !/^\d{4}$/.test(y)) { error.textContent = t.dobIncomplete; return; }
    const typed = `${y}-${m}-${d.padStart(2, "0")}`;
    button.disabled = true;
    const { status, json } = await send(`${api}/verify`, { dob: typed }).catch(() => ({ status: 0, json: {} }));
    button.disabled = false;
    if (status === 200) { dob = typed; at = 0; showQuestion(); return; }
    if (status === 404 || (kiosk && status === 401)) { unusable(); return; }
    error.textContent = status === 400 ? cleanMessage(json.message) : t.later;
  } } },
    el("fieldset", {},
      el("legend", { text: caregiver ? t.dobTitleCaregiver : t.dobTitle }),
      el("div", { class: "dob" },
        el("label", { for: "dob-month", text: t.month }, month),
        el("label", { for: "dob-day", text: t.day }, day),
        el("label", { for: "dob-year", text: t.year }, year))),
    error,
    el("div", { class: "actions" }, button));
  // The labels wrap their fields; `text` set the label's text before the field was appended.
  screen(t.title, el("p", { text: t.dobHelp }), form);
}

/// A refusal's message without its field name (`dob: …`), capitalised.
function cleanMessage(message) {
  const text = String(message || t.later).replace(/^[a-z_]+: /, "");
  return text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
}

function showQuestion() {
  const q = questions[at];
  const name = `answer-${at}`;
  const chosen = answers[q.form]?.[q.index];
  const options = q.options.map((option, k) => {
    const input = el("input", { type: "radio", name, id: `${name}-${k}`, value: String(option.score) });
    if (chosen === option.score) input.checked = true;
    return el("label", { class: "option", for: `${name}-${k}` }, input, el("span", { text: option.label }));
  });
  const error = errorLine("answer-error");
  const last = at === questions.length - 1;
  const next = el("button", { type: "submit", class: "primary", id: "next", text: last ? t.send : t.next });
  const back = el("button", { type: "button", class: "secondary", id: "back", text: t.back, on: { click: () => {
    if (at === 0) showDob(); else { at -= 1; showQuestion(); }
  } } });
  const form = el("form", { novalidate: "", on: { submit: async (event) => {
    event.preventDefault();
    const picked = form.querySelector(`input[name="${name}"]:checked`);
    if (!picked) { error.textContent = t.choose; return; }
    (answers[q.form] ||= [])[q.index] = Number(picked.value);
    if (!last) { at += 1; showQuestion(); return; }
    next.disabled = true;
    next.textContent = t.sending;
    await submit(error, next);
  } } },
    el("fieldset", {}, el("legend", { id: "question", text: q.text }), ...options),
    error,
    el("div", { class: "actions" }, back, next));
  const progress = el("progress", { max: String(questions.length), value: String(at + 1), "aria-label": t.progress(at + 1, questions.length) });
  const first = questions.findIndex((other) => other.form === q.form) === at;
  screen(t.progress(at + 1, questions.length),
    progress,
    first && q.instructions ? el("p", { class: "instructions", text: q.instructions }) : null,
    form);
}

async function submit(error, button) {
  const { status, json } = await send(api, { dob, answers }).catch(() => ({ status: 0, json: {} }));
  if (status === 200) { finished(json); return; }
  if (status === 404 || (kiosk && status === 401)) { unusable(); return; }
  button.disabled = false;
  button.textContent = t.send;
  error.textContent = status === 400 ? cleanMessage(json.message) : t.later;
}

/// After the answers: the crisis text first and alone when a safety item was positive (§10).
/// On a tablet, *Done* returns to the locked screen (the server already holds no request).
function finished(reply) {
  const done = kiosk
    ? el("div", { class: "actions" }, el("p", { text: t.handBack }), el("button", { type: "button", class: "primary", id: "done", text: t.done, on: { click: locked } }))
    : null;
  if (reply.crisis) {
    const calls = el("div", { class: "calls" },
      el("a", { class: "call", href: "tel:988", text: t.call988 }),
      el("a", { class: "call", href: "sms:988", text: t.text988 }),
      el("a", { class: "call", href: "tel:911", text: t.call911 }));
    const box = el("section", { class: "crisis", role: "alert", "aria-labelledby": "heading" });
    screen(t.crisisTitle, box);
    box.append(app.querySelector("#heading"), el("p", { id: "message", text: reply.message }), calls);
    if (done) app.append(done);
    app.querySelector("#heading").focus();
  } else {
    screen(t.doneTitle, el("p", { id: "message", text: reply.message }), done);
  }
}

async function start() {
  const { status, json } = await send(api).catch(() => ({ status: 0, json: {} }));
  if (status !== 200) { if (status === 404 || (kiosk && status === 401)) unusable(); else screen(STRINGS.en.later, el("p", { lang: "es", text: STRINGS.es.later })); return; }
  questionnaire = json;
  t = STRINGS[json.language] || STRINGS.en;
  document.documentElement.lang = json.language;
  document.getElementById("practice").textContent = json.practice;
  questions = json.instruments.flatMap((form) =>
    form.items.map((item, index) => ({ form: form.id, index, text: item.text, instructions: form.instructions, options: item.options })));
  showDob();
}

start();
