-- PATCH products with If-Match, as a back office would. $BENCH_PRODUCTS holds "id<TAB>version"
-- rows; each wrk thread takes every n-th product, so no two connections edit the same product at
-- once, and sends the version the previous edit left (+1 per successful edit). When wrk ends,
-- the versions are written back, so the next run (warm-up → count → measure) goes on from them.
-- The last edits a thread sent may still have been in flight when wrk stopped (applied or not):
-- those products are written back as "?" and left alone from then on.
local threads = {}
local ids, versions, unknown = {}, {}, {}
local at, edits = 0, 0
local IN_FLIGHT = 64

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

function init(args)
    local n = 0
    local total = tonumber(os.getenv("BENCH_THREADS_TOTAL") or "2")
    for line in io.lines(os.getenv("BENCH_PRODUCTS")) do
        local pid, version = line:match("^(%S+)\t(%S+)")
        if pid then
            if n % total == id then
                if tonumber(version) then
                    ids[#ids + 1] = pid
                    versions[#versions + 1] = tonumber(version)
                else
                    unknown[#unknown + 1] = pid
                end
            end
            n = n + 1
        end
    end
    if #ids <= IN_FLIGHT then error("too few products left for thread " .. id) end
end

function request()
    at = at % #ids + 1
    edits = edits + 1
    local version = versions[at]
    versions[at] = version + 1
    local headers = {}
    for k, v in pairs(wrk.headers) do headers[k] = v end
    headers["Content-Type"] = "application/json"
    headers["If-Match"] = '"' .. version .. '"'
    local body = '{"seo_title":{"en":"Edit ' .. id .. "-" .. edits .. '"}}'
    return wrk.format("PATCH", "/api/v1/admin/catalog/products/" .. ids[at], headers, body)
end

function done(summary, latency, requests)
    local out = io.open(os.getenv("BENCH_PRODUCTS"), "w")
    for _, thread in ipairs(threads) do
        local tids, tversions, tunknown = thread:get("ids"), thread:get("versions"), thread:get("unknown")
        local last, count = thread:get("at"), #tids
        local sent = thread:get("edits")
        for i = 1, count do
            -- positions last, last-1, … (cyclically) are the most recent edits
            local age = (last - i) % count
            if age < IN_FLIGHT and age < sent then
                out:write(tids[i] .. "\t?\n")
            else
                out:write(tids[i] .. "\t" .. tversions[i] .. "\n")
            end
        end
        for _, pid in ipairs(tunknown) do out:write(pid .. "\t?\n") end
    end
    out:close()
end
