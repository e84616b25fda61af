# Installs the dashboard's npm dependencies (uPlot) into the build folder with `npm ci` from
# web/package.json and web/package-lock.json, so the source tree gets no node_modules. When
# npm is missing or fails (no network), it warns and the dashboard is built without uPlot:
# the page draws its charts as SVG (scripts/embed-web.cmake). Always writes STAMP.
# cmake -DNPM=/usr/bin/npm -DSRC=web -DDIR=build/web -DSTAMP=file -P this
file(MAKE_DIRECTORY ${DIR})
file(COPY ${SRC}/package.json ${SRC}/package-lock.json DESTINATION ${DIR})
set(ok FALSE)
if(NPM)
  execute_process(COMMAND ${NPM} ci --no-audit --no-fund --ignore-scripts --loglevel=error
                  WORKING_DIRECTORY ${DIR} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(rc EQUAL 0)
    set(ok TRUE)
  endif()
endif()
if(NOT ok)
  file(REMOVE_RECURSE ${DIR}/node_modules)
  message(WARNING "dashboard: npm ci failed or npm is missing (${out}): the dashboard is built "
                  "without uPlot and draws its charts as SVG; run scripts/install-deps for nodejs and npm")
endif()
file(WRITE ${STAMP} "${ok}\n")
