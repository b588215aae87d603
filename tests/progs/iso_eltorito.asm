; SPDX-License-Identifier: GPL-2.0-or-later
;
; The bootable ISO 9660 skeleton of the test CDs (%include "iso_eltorito.asm"
; at the top of a CD program, after defining ISO_VOLUME_ID and
; IMAGE_SECTORS): sectors 0-22 of an image nasm alone assembles (no
; mkisofs/xorriso at build time). SeaBIOS finds the El Torito boot record
; at sector 17, reads the boot catalog and loads the "no emulation" boot
; image (sector 23, four 512-byte virtual sectors) to 07C0:0000.
;
; Layout (2048-byte sectors): 0-15 system area (zeros), 16 primary volume
; descriptor, 17 El Torito boot record, 18 set terminator, 19/20 the L and M
; path tables, 21 the root directory, 22 the boot catalog, 23 the boot
; image; the including program places its boot image at BOOT_LBA and pads
; the image to IMAGE_SECTORS.

SECTOR          equ 2048
PVD_LBA         equ 16
BOOT_RECORD_LBA equ 17
TERMINATOR_LBA  equ 18
PATH_L_LBA      equ 19
PATH_M_LBA      equ 20
ROOT_LBA        equ 21
CATALOG_LBA     equ 22
BOOT_LBA        equ 23

; Both-byte-order fields (ISO 9660 7.2.3, 7.3.3).
%macro both16 1
        dw %1
        db ((%1) >> 8) & 0FFh, (%1) & 0FFh
%endmacro
%macro both32 1
        dd %1
        db ((%1) >> 24) & 0FFh, ((%1) >> 16) & 0FFh, ((%1) >> 8) & 0FFh, (%1) & 0FFh
%endmacro
; A space-padded string field.
%macro text 2
        db %1
        times (%2) - %strlen(%1) db ' '
%endmacro
; A directory record (ISO 9660 9.1) for a directory; %2 is the identifier byte.
%macro dir_record 2
        db 34, 0
        both32 %1
        both32 SECTOR
        db 125, 1, 1, 0, 0, 0, 0        ; 2025-01-01 00:00:00 GMT
        db 02h, 0, 0                    ; directory
        both16 1
        db 1, %2
%endmacro

section iso start=0

        times PVD_LBA * SECTOR db 0

; ---- 16: primary volume descriptor (ISO 9660 8.4) ---------------------------
pvd:
        db 1, "CD001", 1, 0
        text "VSA", 32                  ; system identifier
        text ISO_VOLUME_ID, 32          ; volume identifier
        times 8 db 0
        both32 IMAGE_SECTORS            ; volume space size
        times 32 db 0
        both16 1                        ; volume set size
        both16 1                        ; volume sequence number
        both16 SECTOR                   ; logical block size
        both32 10                       ; path table size
        dd PATH_L_LBA, 0
        db 0, 0, 0, PATH_M_LBA          ; big-endian
        dd 0
        dir_record ROOT_LBA, 0          ; the root directory
        text "", 128                    ; volume set
        text "", 128                    ; publisher
        text "", 128                    ; data preparer
        text "VSA TEST PROGRAMS", 128   ; application
        text "", 37 * 3                 ; copyright, abstract, bibliographic files
%rep 4                                  ; creation, modification, expiration, effective
        times 16 db '0'
        db 0
%endrep
        db 1, 0                         ; file structure version
        times PVD_LBA * SECTOR + SECTOR - ($ - $$) db 0

; ---- 17: El Torito boot record volume descriptor ----------------------------
        db 0, "CD001", 1
        db "EL TORITO SPECIFICATION"
        times 32 - 23 db 0
        times 32 db 0
        dd CATALOG_LBA
        times BOOT_RECORD_LBA * SECTOR + SECTOR - ($ - $$) db 0

; ---- 18: volume descriptor set terminator -----------------------------------
        db 255, "CD001", 1
        times TERMINATOR_LBA * SECTOR + SECTOR - ($ - $$) db 0

; ---- 19, 20: path tables (one entry: the root) ------------------------------
        db 1, 0
        dd ROOT_LBA
        dw 1
        db 0, 0
        times PATH_L_LBA * SECTOR + SECTOR - ($ - $$) db 0
        db 1, 0
        db 0, 0, 0, ROOT_LBA
        db 0, 1
        db 0, 0
        times PATH_M_LBA * SECTOR + SECTOR - ($ - $$) db 0

; ---- 21: root directory: "." and ".." ----------------------------------------
        dir_record ROOT_LBA, 0
        dir_record ROOT_LBA, 1
        times ROOT_LBA * SECTOR + SECTOR - ($ - $$) db 0

; ---- 22: boot catalog (El Torito 2.1, 2.2) -----------------------------------
; Validation entry: header 01h, platform 80x86, an ID string, a checksum
; word making the sixteen words sum to zero, then 55h AAh.
%define CATALOG_ID_WORDS (5356h + 0041h)   ; "VSA" as little-endian words
        db 1, 0, 0, 0
        db "VSA"
        times 24 - 3 db 0
        dw (10000h - ((0001h + CATALOG_ID_WORDS + 0AA55h) & 0FFFFh)) & 0FFFFh
        db 55h, 0AAh
; Initial/default entry: bootable, no emulation, load segment 0 (07C0h),
; four 512-byte virtual sectors from the boot image's LBA.
        db 88h, 0
        dw 0
        db 0, 0
        dw 4
        dd BOOT_LBA
        times CATALOG_LBA * SECTOR + SECTOR - ($ - $$) db 0
