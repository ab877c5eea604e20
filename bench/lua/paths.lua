-- GET the paths listed in $BENCH_PATHS (one per line) in turn; each wrk thread starts its own
-- share of the list, so the threads do not ask for the same thing at the same time.
local paths = {}
local at = 0
local threads = 0

function setup(thread)
    thread:set("id", threads)
    threads = threads + 1
end

function init(args)
    for line in io.lines(os.getenv("BENCH_PATHS")) do
        if line ~= "" then paths[#paths + 1] = line end
    end
    if #paths == 0 then error("no paths in " .. os.getenv("BENCH_PATHS")) end
    at = math.floor(#paths * id / tonumber(os.getenv("BENCH_THREADS_TOTAL") or "2"))
end

function request()
    at = at % #paths + 1
    return wrk.format("GET", paths[at])
end
