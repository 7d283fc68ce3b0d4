import time, sys, cProfile, pstats
from benchmarks._nginx import start_nginx
from reqivo_sync import Session
import urllib3
with start_nginx() as ng:
    base = ng.url
    url = base + "/1k"
    s = Session()
    for _ in range(500): s.get(url)
    n=0; t=time.perf_counter()
    while time.perf_counter()-t < 2: s.get(url); n+=1
    print("reqivo-sync", n/2)
    pm = urllib3.PoolManager()
    for _ in range(500): pm.request("GET", url)
    n=0; t=time.perf_counter()
    while time.perf_counter()-t < 2: pm.request("GET", url).data; n+=1
    print("urllib3", n/2)
    if len(sys.argv)>1:
        cProfile.run("for _ in range(5000): s.get(url)", "/tmp/seq.prof")
        pstats.Stats("/tmp/seq.prof").sort_stats("tottime").print_stats(35)
    s.close()
