/**
 * undici's proxy agent (with its SOCKS5 half), loaded only when a proxy variable applies to a host: most runs never
 * need it and its code is a tenth of what undici parses at start-up. Importing undici.js first gives it the API
 * methods the transport calls.
 */
import './undici.js';
import ProxyAgent from 'undici/lib/dispatcher/proxy-agent.js';

export { ProxyAgent };
