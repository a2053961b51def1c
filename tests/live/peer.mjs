// A real AT Protocol network on loopback (PLC directory, PDS, AppView) for trueclout's
// live tests and crawl bench, built with @atproto/dev-env, with a small control API that
// seeds and changes it.
//
//   DB_POSTGRES_URL=postgresql://... REDIS_HOST=127.0.0.1:6379 node peer.mjs
//
// (tests/live/live_stack.py starts it, with PostgreSQL and redis, and stops it.)
// Prints one line `READY {"appview", "plc", "pds", "control"}` once the network is up.
// The control API (JSON over HTTP on loopback):
//
//   POST /ops     {"ops": [op, ...], "parallel": N}   runs the ops (N at a time, in order
//                 of the list otherwise), then lets the AppView index everything; answers
//                 {"dids", "handles", "posts", "errors"}
//   GET  /state   the same maps, without running anything
//   POST /restart-pds   stops the PDS and starts it again on the same port and data
//   POST /stop    closes the network and exits
//
// Ops name accounts by a short name and posts by a key chosen by the caller:
//   {op: "account", name, handle?, displayName?, description?, avatar?, bot?}
//   {op: "follow" | "unfollow" | "block" | "unblock", from, to}
//   {op: "post", by, key, text, replyTo?, quote?}   (#tags and @handles in the text
//                                                    become facets)
//   {op: "deletePost", key} | {op: "like" | "unlike" | "repost" | "unrepost", by, key}
//   {op: "handle", name, handle} | {op: "profile", name, displayName?, description?}

import crypto from 'node:crypto'
import http from 'node:http'
import { TestNetwork, SeedClient } from '@atproto/dev-env'
import { PDS } from '@atproto/pds'
import sharp from 'sharp'

const dids = {}
const handles = {}
const posts = {}
const likes = {}
const reposts = {}
const pdsEnvs = new Map()

// TRUECLOUT_PEER_CHEAP_PASSWORDS=1 (the crawl bench, which makes 10,000 accounts): the
// PDS hashes passwords with scrypt at a low cost, a tenth of the time of an account
if (process.env.TRUECLOUT_PEER_CHEAP_PASSWORDS === '1') {
  const scrypt = crypto.scrypt
  crypto.scrypt = (password, salt, keylen, options, callback) => {
    if (typeof options === 'function') [callback, options] = [options, {}]
    return scrypt(password, salt, keylen, { ...options, N: 1024 }, callback)
  }
}

// remember the settings each PDS is made with, so it can be started again on its data
const fromEnv = PDS.fromEnv.bind(PDS)
PDS.fromEnv = async (env) => {
  if (env && env.port) pdsEnvs.set(env.port, env)
  return fromEnv(env)
}

const network = await TestNetwork.create({
  dbPostgresUrl: process.env.DB_POSTGRES_URL,
  dbPostgresSchema: process.env.DB_POSTGRES_SCHEMA || 'trueclout_live',
})
const sc = network.getSeedClient()
const avatar = await sharp({
  create: { width: 8, height: 8, channels: 3, background: { r: 40, g: 90, b: 200 } },
}).jpeg().toBuffer()

function facets(text) {
  const out = []
  const bytes = (s) => Buffer.byteLength(s, 'utf8')
  for (const m of text.matchAll(/#(\w+)/g)) {
    const start = bytes(text.slice(0, m.index))
    out.push({ index: { byteStart: start, byteEnd: start + bytes(m[0]) },
      features: [{ $type: 'app.bsky.richtext.facet#tag', tag: m[1] }] })
  }
  for (const m of text.matchAll(/@([\w.-]+\w)/g)) {
    const did = Object.keys(handles).find((n) => handles[n] === m[1])
    if (!did) continue
    const start = bytes(text.slice(0, m.index))
    out.push({ index: { byteStart: start, byteEnd: start + bytes(m[0]) },
      features: [{ $type: 'app.bsky.richtext.facet#mention', did: dids[did] }] })
  }
  return out.length ? out : undefined
}

function ref(key) {
  const p = posts[key]
  if (!p) throw new Error(`unknown post ${key}`)
  return p.ref
}

async function runOp(op) {
  const did = (name) => {
    if (!dids[name]) throw new Error(`unknown account ${name}`)
    return dids[name]
  }
  switch (op.op) {
    case 'account': {
      const handle = op.handle || `${op.name}.test`
      const acc = await sc.createAccount(op.name, {
        handle, email: `${op.name}@example.test`, password: 'password' })
      dids[op.name] = acc.did
      handles[op.name] = handle
      const record = { $type: 'app.bsky.actor.profile', createdAt: new Date().toISOString() }
      if (op.displayName) record.displayName = op.displayName
      if (op.description) record.description = op.description
      if (op.bot) record.labels = { $type: 'com.atproto.label.defs#selfLabels',
        values: [{ val: 'bot' }] }
      if (op.avatar) {
        const res = await sc.agent.com.atproto.repo.uploadBlob(avatar, {
          encoding: 'image/jpeg', headers: sc.getHeaders(acc.did) })
        record.avatar = res.data.blob
      }
      if (op.displayName || op.description || op.bot || op.avatar) {
        await sc.updateProfile(acc.did, record)
      }
      return
    }
    case 'follow': return void await sc.follow(did(op.from), did(op.to))
    case 'unfollow': return void await sc.unfollow(did(op.from), did(op.to))
    case 'block': return void await sc.block(did(op.from), did(op.to))
    case 'unblock': return void await sc.unblock(did(op.from), did(op.to))
    case 'post': {
      let p
      if (op.replyTo) {
        const parent = posts[op.replyTo]
        p = await sc.reply(did(op.by), parent.root || parent.ref, parent.ref, op.text,
          facets(op.text))
        p.root = parent.root || parent.ref
      } else {
        p = await sc.post(did(op.by), op.text, facets(op.text), undefined,
          op.quote ? ref(op.quote) : undefined)
      }
      posts[op.key] = { ref: p.ref, by: op.by, root: p.root }
      return
    }
    case 'deletePost': {
      const p = posts[op.key]
      await sc.deletePost(did(p.by), p.ref.uri)
      return
    }
    case 'like':
    case 'repost': {
      const made = op.op === 'like' ? likes : reposts
      const rec = await sc[op.op](did(op.by), ref(op.key))
      made[`${op.by} ${op.key}`] = rec.uri || rec
      return
    }
    case 'unlike':
    case 'unrepost': {
      const kind = op.op.slice(2)
      const uri = (kind === 'like' ? likes : reposts)[`${op.by} ${op.key}`]
      await sc.agent.app.bsky.feed[kind].delete({ repo: did(op.by), rkey: uri.rkey },
        sc.getHeaders(did(op.by)))
      return
    }
    case 'handle': {
      await sc.updateHandle(did(op.name), op.handle)
      handles[op.name] = op.handle
      return
    }
    case 'profile': {
      const current = await sc.agent.com.atproto.repo.getRecord({
        repo: did(op.name), collection: 'app.bsky.actor.profile', rkey: 'self' })
        .then((r) => r.data.value).catch(() => ({ $type: 'app.bsky.actor.profile' }))
      const record = { ...current }
      if (op.displayName !== undefined) record.displayName = op.displayName
      if (op.description !== undefined) record.description = op.description
      await sc.updateProfile(did(op.name), record)
      return
    }
    default:
      throw new Error(`unknown op ${op.op}`)
  }
}

async function runOps(ops, parallel) {
  const errors = []
  let next = 0
  async function worker() {
    while (next < ops.length) {
      const i = next++
      try {
        await runOp(ops[i])
      } catch (err) {
        errors.push({ index: i, op: ops[i], error: String(err && err.message || err) })
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, parallel || 1) }, worker))
  await network.processAll(60000)
  return errors
}

function state(extra = {}) {
  const p = {}
  for (const [k, v] of Object.entries(posts)) p[k] = { uri: v.ref.uriStr, cid: v.ref.cidStr }
  return { dids, handles, posts: p, ...extra }
}

async function restartPds() {
  const old = network.pds
  const env = pdsEnvs.get(old.port)
  await old.server.destroy()
  const server = await fromEnv(env)
  await server.start()
  old.server = server
  sc.agent = old.getAgent()
}

let queue = Promise.resolve()
const serialize = (fn) => (queue = queue.then(fn, fn))

const control = http.createServer((req, res) => {
  let body = ''
  req.on('data', (c) => { body += c })
  req.on('end', () => serialize(async () => {
    const reply = (code, obj) => {
      res.writeHead(code, { 'content-type': 'application/json' })
      res.end(JSON.stringify(obj))
    }
    try {
      if (req.method === 'GET' && req.url === '/state') return reply(200, state())
      if (req.method === 'POST' && req.url === '/ops') {
        const msg = JSON.parse(body || '{}')
        const errors = await runOps(msg.ops || [], msg.parallel)
        return reply(200, state({ errors }))
      }
      if (req.method === 'POST' && req.url === '/restart-pds') {
        await restartPds()
        return reply(200, state())
      }
      if (req.method === 'POST' && req.url === '/stop') {
        reply(200, {})
        return shutdown()
      }
      return reply(404, { error: 'not found' })
    } catch (err) {
      return reply(500, { error: String(err && err.stack || err) })
    }
  }))
})

let closing = false
async function shutdown() {
  if (closing) return
  closing = true
  control.close()
  try {
    await network.close()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)

control.listen(0, '127.0.0.1', () => {
  const info = {
    appview: network.bsky.url,
    plc: network.plc.url,
    pds: network.pds.url,
    control: `http://127.0.0.1:${control.address().port}`,
  }
  process.stdout.write(`READY ${JSON.stringify(info)}\n`)
})
