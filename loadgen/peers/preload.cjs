// Preloaded into the Node.js peers by scripts/bench (node -r ./preload.cjs ...), like the classic
// server's nolog.js: silences console.log (PeerJS logs every connection), and makes a server
// that listens on a bare port (y-webrtc's server.listen(port)) listen on 127.0.0.1 only.
console.log = function () {};
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    const port = Number(args[0]);
    const callback = args.find((arg) => typeof arg === 'function');
    return listen.call(this, port, '127.0.0.1', callback);
  }
  return listen.apply(this, args);
};
