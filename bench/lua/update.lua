-- PATCH products with If-Match, as a back office would. $BENCH_PRODUCTS holds "id<TAB>version"
-- rows, read from the database just before this run; each wrk thread takes every n-th product
-- and cycles through them, sending the version the product's last answer (its body's `version`)
-- gave. A thread comes back to a product only after thousands of other edits, so a 412 means a
-- real conflict (an edit still unanswered by then), not a guess gone wrong.
-- Globals, not locals: done() reads them from each thread with thread:get().
threads = {}
ids, versions, position = {}, {}, {}
at, edits = 0, 0
statuses = {}

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

function init(args)
    local n = 0
    local total = tonumber(os.getenv("BENCH_THREADS_TOTAL") or "2")
    for line in io.lines(os.getenv("BENCH_PRODUCTS")) do
        local pid, version = line:match("^(%S+)\t(%d+)")
        if pid then
            if n % total == id then
                ids[#ids + 1] = pid
                versions[#versions + 1] = tonumber(version)
                position[pid] = #ids
            end
            n = n + 1
        end
    end
    if #ids == 0 then error("no products for thread " .. id) end
end

function request()
    at = at % #ids + 1
    edits = edits + 1
    local version = versions[at]
    local headers = {}
    for k, v in pairs(wrk.headers) do headers[k] = v end
    headers["Content-Type"] = "application/json"
    headers["If-Match"] = '"' .. version .. '"'
    local body = '{"seo_title":{"en":"Edit ' .. id .. "-" .. edits .. '"}}'
    return wrk.format("PATCH", "/api/v1/admin/catalog/products/" .. ids[at], headers, body)
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    if status == 200 then
        local pid = body:match('^{"id":"([^"]+)"')
        local version = body:match('"version":(%d+)}%s*$')
        if pid and version and position[pid] then versions[position[pid]] = tonumber(version) end
    end
end

function done(summary, latency, requests)
    for _, thread in ipairs(threads) do
        for status, count in pairs(thread:get("statuses")) do
            if status ~= 200 then io.write(string.format("  status %d: %d responses\n", status, count)) end
        end
    end
end
