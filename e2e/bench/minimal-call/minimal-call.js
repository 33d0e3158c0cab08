// A minimal hand-written 1:1 call over Duet's signaling protocol (PROTOCOL.md), the floor the
// web app's bench compares against (e2e/examples/webapp-bench). It does what the app does for a
// call and nothing else: sign in, call by name, ring, Accept, offer/answer/candidates, hang up.
// No framework, no build step, no reconnects, no error screens.
//
// The same shape of call as the app's, so the comparison is fair:
// - the camera and microphone are opened once after signing in (the app's local preview), not
//   during the call;
// - the caller creates its RTCPeerConnection and sends the offer when "Call" is clicked;
// - the callee creates its RTCPeerConnection only when "Accept" is clicked, then applies the
//   offer and the candidates that arrived meanwhile, and answers;
// - both sides add the camera and microphone tracks and the negotiated data channel (id 0) the
//   app also has, so the SDP carries the same media sections;
// - ICE servers are the ones the server's `hello` lists (none on loopback).
"use strict";

const byId = (id) => document.getElementById(id);
const remoteVideo = document.querySelector('video[aria-label="Remote video"]');
const localVideo = document.querySelector('video[aria-label="Your camera"]');

// The signaling connection: same origin, /ws, as the app uses by default.
const socketUrl = new URL("/ws", location.href);
socketUrl.protocol = location.protocol === "https:" ? "wss:" : "ws:";
const socket = new WebSocket(socketUrl.href);

let iceServers = [];
let localStream = null; // camera + microphone, opened after sign-in
let peerName = null; // the other side of the current (or ringing) call
let pendingOffer = null; // the offer of a ringing call, applied on Accept
let connection = null; // the call's RTCPeerConnection
let queuedCandidates = []; // candidates that arrived before the remote description

// Frames that must wait for the socket to open (a sign-in typed very quickly).
const unsent = [];
function send(message) {
    const text = JSON.stringify(message);
    if (socket.readyState === WebSocket.OPEN) socket.send(text);
    else unsent.push(text);
}
socket.addEventListener("open", () => unsent.splice(0).forEach((text) => socket.send(text)));

function showStatus(text) {
    byId("status").textContent = text;
}

// --- Signing in ------------------------------------------------------------------------------

byId("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    send({ type: "login", name: byId("sign-in-name").value.trim() });
});
// Everything the form needs is wired up: from now on it is usable.
byId("sign-in-form").querySelector("button").disabled = false;

async function signedIn(name) {
    byId("sign-in-form").hidden = true;
    byId("signed-in-as").textContent = `Signed in as ${name}`;
    byId("signed-in-as").hidden = false;
    localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    localVideo.srcObject = localStream;
    byId("call-form").hidden = false;
}

// --- One call ------------------------------------------------------------------------------

function createConnection() {
    const pc = new RTCPeerConnection({ iceServers });
    pc.createDataChannel("duet", { negotiated: true, id: 0 });
    for (const track of localStream.getTracks()) pc.addTrack(track, localStream);
    pc.addEventListener("icecandidate", (event) => {
        if (event.candidate) send({ type: "candidate", name: peerName, candidate: event.candidate });
    });
    pc.addEventListener("track", (event) => {
        if (remoteVideo.srcObject !== event.streams[0]) remoteVideo.srcObject = event.streams[0];
    });
    return pc;
}

async function applyQueuedCandidates() {
    for (const candidate of queuedCandidates.splice(0)) await connection.addIceCandidate(candidate);
}

// Caller: "Call" creates the connection and sends the offer.
byId("call-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    peerName = byId("call-name").value.trim();
    connection = createConnection();
    await connection.setLocalDescription(await connection.createOffer());
    send({ type: "offer", name: peerName, offer: connection.localDescription });
    showStatus(`Calling ${peerName}…`);
    byId("hang-up").hidden = false;
});

// Callee: "Accept" creates the connection, applies the offer and queued candidates, answers.
byId("accept").addEventListener("click", async () => {
    byId("incoming-call").hidden = true;
    connection = createConnection();
    await connection.setRemoteDescription(pendingOffer);
    pendingOffer = null;
    await applyQueuedCandidates();
    await connection.setLocalDescription(await connection.createAnswer());
    send({ type: "answer", name: peerName, answer: connection.localDescription });
    showStatus(`In a call with ${peerName}`);
    byId("hang-up").hidden = false;
});

function endCall(words) {
    if (connection) connection.close();
    connection = null;
    pendingOffer = null;
    queuedCandidates = [];
    peerName = null;
    remoteVideo.srcObject = null;
    byId("incoming-call").hidden = true;
    byId("hang-up").hidden = true;
    showStatus(words);
}

byId("hang-up").addEventListener("click", () => {
    send({ type: "leave", name: peerName });
    endCall("You hung up");
});

// --- Messages from the server ------------------------------------------------------------------

socket.addEventListener("message", async (event) => {
    const message = JSON.parse(event.data);
    switch (message.type) {
        case "hello":
            iceServers = message.iceServers || [];
            break;
        case "login":
            if (message.success) await signedIn(message.name);
            else showStatus(message.message);
            break;
        case "offer": // a new call rings (this page does not renegotiate)
            peerName = message.name;
            pendingOffer = message.offer;
            byId("incoming-caller").textContent = message.name;
            byId("incoming-call").hidden = false;
            break;
        case "answer":
            await connection.setRemoteDescription(message.answer);
            await applyQueuedCandidates();
            showStatus(`In a call with ${peerName}`);
            break;
        case "candidate":
            // Queued until this side has the remote description (the callee before Accept).
            if (connection && connection.remoteDescription) await connection.addIceCandidate(message.candidate);
            else queuedCandidates.push(message.candidate);
            break;
        case "leave":
            endCall(`${message.name} ended the call (${message.reason})`);
            break;
        case "error":
            showStatus(message.message);
            break;
    }
});
