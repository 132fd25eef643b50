-- Quarto-style cross-references for plain pandoc -> Typst.
-- @fig-x / @tbl-x / @sec-x are parsed by pandoc as citations; turn them into native Typst
-- references when the label exists in the document, otherwise into plain text (a reference
-- to a skipped chapter must not break the PDF). Tables whose caption still ends with a
-- literal "{#tbl-x}" get that identifier.

local labels = {}
local prefixes = { fig = true, tbl = true, sec = true }

local function is_xref(id)
  local p = id:match("^(%a+)%-")
  return p ~= nil and prefixes[p] ~= nil
end

local function table_id_from_caption(tbl)
  if tbl.identifier ~= nil and tbl.identifier ~= "" then return tbl end
  local blocks = tbl.caption.long
  if #blocks == 0 then return tbl end
  local inlines = blocks[#blocks].content
  if inlines == nil or #inlines == 0 then return tbl end
  local last = inlines[#inlines]
  if last.t == "Str" then
    local id = last.text:match("^{#(tbl%-[%w%-]+)}$")
    if id then
      inlines:remove(#inlines)
      if #inlines > 0 and inlines[#inlines].t == "Space" then inlines:remove(#inlines) end
      tbl.identifier = id
    end
  end
  return tbl
end

local function collect(doc)
  doc:walk({
    Table = function(t) t = table_id_from_caption(t); labels[t.identifier] = true end,
    Figure = function(f) labels[f.identifier] = true end,
    Header = function(h) labels[h.identifier] = true end,
    Image = function(i) labels[i.identifier] = true end,
    Div = function(d) labels[d.identifier] = true end,
    Span = function(s) labels[s.identifier] = true end,
  })
end

local function cite(c)
  local out = pandoc.List()
  for i, citation in ipairs(c.citations) do
    local id = citation.id
    if not is_xref(id) then return nil end
    if i > 1 then out:insert(pandoc.Str(", ")) end
    if labels[id] then
      out:insert(pandoc.RawInline("typst", "@" .. id))
    else
      out:insert(pandoc.Str("(Verweis nicht verfügbar)"))
    end
  end
  return out
end

-- Short tables are kept on one page (no orphaned header with one row); longer ones may break
-- (Typst repeats the header row). The limit is in estimated printed lines, not rows: a table with
-- wrapped text cells is tall, and an unbreakable tall block would leave most of a page empty.
local KEEP_TOGETHER_LINES = 10
local CHARS_PER_CELL_LINE = 40

local function row_lines(row)
  local lines = 1
  for _, cell in ipairs(row.cells) do
    local n = math.ceil(#pandoc.utils.stringify(cell.contents) / CHARS_PER_CELL_LINE)
    if n > lines then lines = n end
  end
  return lines
end

local function body_lines(tbl)
  local n = 0
  for _, body in ipairs(tbl.bodies) do
    for _, row in ipairs(body.body) do n = n + row_lines(row) end
  end
  return n
end

local function keep_short_tables(tbl)
  if FORMAT ~= "typst" or body_lines(tbl) > KEEP_TOGETHER_LINES then return nil end
  return {
    pandoc.RawBlock("typst", "#block(breakable: false)["),
    tbl,
    pandoc.RawBlock("typst", "]"),
  }
end

function Pandoc(doc)
  collect(doc)
  doc = doc:walk({ Table = table_id_from_caption })
  doc = doc:walk({ Table = keep_short_tables })
  return doc:walk({ Cite = cite })
end
