-- The storefront's cart as shoppers use it, over and over.
-- $BENCH_MODE `create`: POST /api/v1/store/cart/lines without a token — one request makes a
-- guest cart and puts one unit of a random variant ($BENCH_VARIANTS, one id a line) in it; each
-- 200 is one cart made with its first item.
-- $BENCH_MODE `read`: GET /api/v1/store/cart with the token of a random cart of $BENCH_TOKENS
-- (carts made beforehand, a few lines each): the cart with every total worked out.
-- Globals, not locals: done() reads them from each thread with thread:get().
threads = {}
statuses = {}

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

local function lines_of(path)
    local out = {}
    for line in io.lines(path) do
        if line ~= "" then out[#out + 1] = line end
    end
    if #out == 0 then error("nothing in " .. path) end
    return out
end

function init(args)
    mode = os.getenv("BENCH_MODE")
    math.randomseed(os.time() * 31 + id)
    send = {}
    for k, v in pairs(wrk.headers) do send[k] = v end
    if mode == "create" then
        variants = lines_of(os.getenv("BENCH_VARIANTS"))
        send["Content-Type"] = "application/json"
    else
        tokens = lines_of(os.getenv("BENCH_TOKENS"))
    end
end

function request()
    if mode == "create" then
        local body = '{"variant_id":"' .. variants[math.random(#variants)] .. '","quantity":1}'
        return wrk.format("POST", "/api/v1/store/cart/lines", send, body)
    end
    send["X-Cart-Token"] = tokens[math.random(#tokens)]
    return wrk.format("GET", "/api/v1/store/cart", send)
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local all = {}
    for _, thread in ipairs(threads) do
        for status, n in pairs(thread:get("statuses")) do all[status] = (all[status] or 0) + n end
    end
    for status, n in pairs(all) do io.write(string.format("status %d: %d\n", status, n)) end
end
