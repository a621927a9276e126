'use strict';
/*
 * Node 20's global agent keeps idle sockets for 5 s, exactly gunicorn's keep-alive in the test
 * service (personapulse/server.py), so a request after a pause can reuse a socket the server is
 * closing (FetchError: socket hang up). Tests open a new connection per request instead.
 */
const http = require('http');

http.globalAgent = new http.Agent({ keepAlive: false });
